package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/grouped"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// shardedData is the dataset of the sharded tests: 16 products over 200 days (three quarters,
// so that every shard has several parts).
var shardedData = datagen.Config{Products: 16, Days: 200, Seed: 3}

// publishSharded publishes the model of manifest single (a single-file model of data) again as
// a sharded model version: data in count shards of quarterly parts with their index, the
// single-file model's trend models and selections split by shard, the group series with their
// models as the group results, the same LSTM. The shards in failed get no trend models nor
// selections, as when their refit failed.
func publishSharded(t testing.TB, s store.Store, single *pipeline.Manifest, data []byte, count int, version string, failed ...int) *pipeline.Manifest {
	t.Helper()
	ctx := context.Background()
	put := func(key string, body []byte) store.Object {
		obj, err := s.Put(ctx, key, bytes.NewReader(body), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	putJSON := func(key string, v any) pipeline.Artifact {
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		obj := put(key, body)
		return pipeline.Artifact{Key: key, ETag: obj.ETag, VersionID: obj.VersionID}
	}
	read := func(key string, v any) {
		body, _, err := store.ReadAll(ctx, s, key)
		if err == nil {
			err = json.Unmarshal(body, v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// The rows by shard and period, each part with the dataset's header.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	header := lines[0]
	parts := make([]map[string][]string, count)
	products := make([]map[string]bool, count)
	for k := range count {
		parts[k], products[k] = map[string][]string{}, map[string]bool{}
	}
	for _, line := range lines[1:] {
		fields := strings.SplitN(line, ",", 3)
		day, err := time.Parse(time.DateOnly, fields[0])
		if err != nil {
			t.Fatal(err)
		}
		k := shards.Of(fields[1], count)
		parts[k][shards.PeriodOf(day)] = append(parts[k][shards.PeriodOf(day)], line)
		products[k][fields[1]] = true
	}
	index := make(shards.Index, count)
	for k := range count {
		sh := shards.Shard{Shard: k, Of: count, Products: len(products[k]), Columns: strings.Split(header, ","), Parts: []shards.Part{}}
		for _, period := range slices.Sorted(maps.Keys(parts[k])) {
			rows := parts[k][period]
			body := []byte(header + "\n" + strings.Join(rows, "\n") + "\n")
			key := shards.PartKey(k, count, period)
			obj := put(key, body)
			sh.Parts = append(sh.Parts, shards.Part{Period: period, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: len(rows), Bytes: int64(len(body))})
			sh.Rows += len(rows)
			sh.Bytes += int64(len(body))
			if sh.FirstDate == "" {
				sh.FirstDate = rows[0][:10]
			}
			sh.LastDate = rows[len(rows)-1][:10]
		}
		index[k] = sh
	}
	previous := ""
	if current, err := s.Head(ctx, shards.IndexKey); err == nil {
		previous = current.ETag
	}
	written, err := pipeline.WriteIndex(ctx, s, index, previous)
	if err != nil {
		t.Fatal(err)
	}

	// The single-file model's trend models and selections, by shard; the groups'.
	var trends trend.Set
	read(single.Trend.Key, &trends)
	var sel backtest.Set
	read(single.Selection.Key, &sel)
	shardOf := func(key string) int {
		if id, ok := strings.CutPrefix(key, "product/"); ok {
			return shards.Of(id, count)
		}
		return -1 // a group
	}
	split := func(k int) (*trend.Set, *backtest.Set) {
		ts := trend.NewSet(trends.Created)
		for key, m := range trends.Models {
			if shardOf(key) == k {
				ts.Add(key, m, trends.Fallbacks[key])
			}
		}
		ss := &backtest.Set{Format: sel.Format, Created: sel.Created, Frequency: sel.Frequency, Candidates: sel.Candidates,
			Selections: map[string]*backtest.Selection{}, Unselected: map[string]string{}}
		for key, v := range sel.Selections {
			if shardOf(key) == k {
				ss.Selections[key] = v
			}
		}
		for key, why := range sel.Unselected {
			if shardOf(key) == k {
				ss.Unselected[key] = why
			}
		}
		return ts, ss
	}
	m := *single
	m.Version, m.Previous = version, single.Version
	m.Trend, m.Selection = pipeline.Artifact{}, nil
	m.Dataset = pipeline.Dataset{Key: shards.IndexKey, ETag: written.ETag, VersionID: written.VersionID, Rows: index.Rows(),
		FirstDate: index.FirstDate(), LastDate: index.LastDate(), Written: single.Dataset.Written}
	for k := range count {
		sm := pipeline.ShardModel{Data: index[k]}
		if !slices.Contains(failed, k) {
			ts, ss := split(k)
			sm.Trend = putJSON(pipeline.ShardTrendKey(version, k), ts)
			a := putJSON(pipeline.ShardSelectionKey(version, k), ss)
			sm.Selection = &a
		}
		m.Shards = append(m.Shards, sm)
	}
	table, err := series.Load(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	groups := &grouped.Set{Format: grouped.Format}
	for _, s := range table.Standard() {
		if shardOf(s.Key) < 0 {
			groups.Series = append(groups.Series, s)
		}
	}
	groups.Trends, groups.Selections = split(-1)
	a := putJSON(pipeline.GroupsKey(version), groups)
	m.Groups = &a
	_, current, err := pipeline.ReadManifest(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteManifest(ctx, s, &m, current.ETag); err != nil {
		t.Fatal(err)
	}
	return &m
}

// readCounter counts the objects read, by key.
type readCounter struct {
	store.Store
	mu    sync.Mutex
	reads map[string]int
}

func (c *readCounter) Get(ctx context.Context, key string, opts store.GetOptions) (io.ReadCloser, store.Object, error) {
	c.mu.Lock()
	if c.reads == nil {
		c.reads = map[string]int{}
	}
	c.reads[key]++
	c.mu.Unlock()
	return c.Store.Get(ctx, key, opts)
}

// take returns the keys read under prefix since the last take, and forgets them all.
func (c *readCounter) take(prefix string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for key, n := range c.reads {
		if strings.HasPrefix(key, prefix) {
			for range n {
				keys = append(keys, key)
			}
		}
	}
	c.reads = nil
	slices.Sort(keys)
	return keys
}

// trainSingle trains and publishes a model of the sharded tests' data (one shard), and publishes
// it again as a single-file model (publishSingleFile).
func trainSingle(t testing.TB) (*handlertest.Env, *pipeline.Manifest, []byte) {
	t.Helper()
	e := handlertest.NewEnv(t)
	data := handlertest.Generated(t, shardedData)
	handlertest.Train(t, e, "trained", data, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
	return e, publishSingleFile(t, e.Store), data
}

// publishSingleFile publishes the current model, of a dataset of one shard, again as a
// single-file model, as written before sharding: the dataset file, one trend set and one
// selection set of every series, no shards nor groups.
func publishSingleFile(t testing.TB, s store.Store) *pipeline.Manifest {
	t.Helper()
	ctx := context.Background()
	trained, obj, err := pipeline.ReadManifest(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(trained.Shards) != 1 {
		t.Fatalf("the model to publish as a single file has %d shards", len(trained.Shards))
	}
	read := func(a pipeline.Artifact, v any) {
		body, _, err := store.ReadAll(ctx, s, a.Key)
		if err == nil {
			err = json.Unmarshal(body, v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var groups grouped.Set
	read(*trained.Groups, &groups)
	var trends trend.Set
	var sel backtest.Set
	read(trained.Shards[0].Trend, &trends)
	read(*trained.Shards[0].Selection, &sel)
	for key, m := range groups.Trends.Models {
		trends.Add(key, m, groups.Trends.Fallbacks[key])
	}
	if groups.Selections != nil {
		if sel.Unselected == nil {
			sel.Unselected = map[string]string{}
		}
		maps.Copy(sel.Selections, groups.Selections.Selections)
		maps.Copy(sel.Unselected, groups.Selections.Unselected)
	}
	putJSON := func(key string, v any) pipeline.Artifact {
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		written, err := s.Put(ctx, key, bytes.NewReader(body), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return pipeline.Artifact{Key: key, ETag: written.ETag}
	}
	m := *trained
	part := trained.Shards[0].Data.Parts[0]
	m.Version, m.Previous = "single", trained.Version
	m.Dataset.Key, m.Dataset.ETag, m.Dataset.VersionID = part.Key, part.ETag, part.VersionID
	m.Trend = putJSON("models/trend/single.json", &trends)
	a := putJSON("models/selection/single.json", &sel)
	m.Selection, m.Shards, m.Groups = &a, nil, nil
	if _, err := pipeline.WriteManifest(ctx, s, &m, obj.ETag); err != nil {
		t.Fatal(err)
	}
	return &m
}

// answer is a response's status and body, without what names the model version.
func answer(t *testing.T, h *api.Handler, path string, query map[string]string) string {
	t.Helper()
	resp := call(t, h, get(path, query))
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("%s %v: %v: %s", path, query, err, resp.Body)
	}
	delete(body, "model_version")
	out, _ := json.Marshal(body)
	return fmt.Sprintf("%d %s", resp.StatusCode, out)
}

// TestShardedModelAnswersAsTheSingleFile publishes one model as a single file and then as a
// sharded model of four shards, and checks that the API answers every kind of request the same
// from both: products from their shards, groups from the group results, ad-hoc filters from the
// shards' sums, the series list and histories.
func TestShardedModelAnswersAsTheSingleFile(t *testing.T) {
	e, single, data := trainSingle(t)
	requests := []struct {
		path  string
		query map[string]string
	}{
		{"/forecast", map[string]string{"product_id": "P0003"}},
		{"/forecast", map[string]string{"product_id": "P0011", "model": "blend", "on_hand": "40"}},
		{"/forecast", map[string]string{"product_id": "P0007", "min_rating": "2"}},
		{"/forecast", nil},
		{"/forecast", map[string]string{"category": "Electronics", "days": "14"}},
		{"/forecast", map[string]string{"region": "North", "model": "ets"}},
		{"/forecast", map[string]string{"category": "Electronics", "region": "West"}},
		{"/forecast", map[string]string{"max_price": "100", "model": "blend"}},
		{"/forecast", map[string]string{"product_id": "P9999"}},
		{"/forecast", map[string]string{"category": "Nothing"}},
		{"/series/history", map[string]string{"product_id": "P0005", "days": "30"}},
		{"/series/history", map[string]string{"region": "South"}},
		{"/series/history", map[string]string{"min_discount": "0.1", "days": "20"}},
	}
	before := api.New(e.Store, handlertest.Logger(t))
	want := make([]string, len(requests))
	for i, r := range requests {
		want[i] = answer(t, before, r.path, r.query)
	}
	wantSeries := seriesEntries(t, before, nil)

	sharded := publishSharded(t, e.Store, single, data, 4, "sharded")
	// A merge since rewrote every part: the API reads the versions the manifest pins.
	for _, sm := range sharded.Shards {
		for _, p := range sm.Data.Parts {
			e.Put(p.Key, []byte("date,product_id,sales\n2030-01-01,P0001,1\n"))
		}
	}
	// The handler that served the single file reloads on the manifest's new ETag.
	if resp := call(t, before, get("/forecast", map[string]string{"product_id": "P0001"})); resp.Headers[api.ModelVersionHeader] != "sharded" {
		t.Fatalf("after the sharded model's publication: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	after := api.New(e.Store, handlertest.Logger(t))
	for i, r := range requests {
		if got := answer(t, after, r.path, r.query); got != want[i] {
			t.Errorf("%s %v: the sharded model answers\n%s\nthe single file\n%s", r.path, r.query, got, want[i])
		}
	}
	// The cache holds every shard of four: each was read once, whatever asked for it first.
	var health api.Health
	if err := json.Unmarshal([]byte(call(t, after, get("/health", nil)).Body), &health); err != nil || health.Shards == nil ||
		health.Shards.Count != 4 || health.Shards.Loads != 4 || health.Shards.Loaded != 4 {
		t.Errorf("health %+v %v", health.Shards, err)
	}
	if resp := call(t, after, get("/forecast/plot", map[string]string{"product_id": "P0002"})); resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != "sharded" {
		t.Errorf("plot: %d %v", resp.StatusCode, resp.Headers)
	}
	// The same series, groups first then products shard by shard, paged through in pages of 5.
	got := seriesEntries(t, after, map[string]string{"limit": "5"})
	if len(got) != len(wantSeries) {
		t.Fatalf("%d series listed, the single file %d", len(got), len(wantSeries))
	}
	byKey := map[string]forecast.SeriesEntry{}
	for _, s := range wantSeries {
		byKey[s.Key] = s
	}
	seen := map[string]bool{}
	for i, s := range got {
		switch {
		case seen[s.Key]:
			t.Errorf("%s listed twice", s.Key)
		case !jsonEqual(s, byKey[s.Key]):
			t.Errorf("%s: sharded %+v, single file %+v", s.Key, s, byKey[s.Key])
		case i > 0 && s.Kind != forecast.KindProduct && got[i-1].Kind == forecast.KindProduct:
			t.Errorf("group %s listed after a product", s.Key)
		}
		seen[s.Key] = true
	}
	// A search and a kind select as they do from the single file.
	for _, q := range []map[string]string{{"q": "p001"}, {"kind": "product", "q": "1", "limit": "3"}, {"kind": "category"}, {"q": "th"}} {
		if got, want := keys(seriesEntries(t, after, q)), keys(seriesEntries(t, before, q)); !slices.Equal(sorted(got), sorted(want)) {
			t.Errorf("series %v: sharded %v, single file %v", q, got, want)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func keys(entries []forecast.SeriesEntry) []string {
	out := make([]string, len(entries))
	for i, s := range entries {
		out[i] = s.Key
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// seriesEntries pages through GET /series with query, checking each page's totals.
func seriesEntries(t *testing.T, h *api.Handler, query map[string]string) []forecast.SeriesEntry {
	t.Helper()
	var all []forecast.SeriesEntry
	offset := 0
	for {
		q := maps.Clone(query)
		if q == nil {
			q = map[string]string{}
		}
		q["offset"] = fmt.Sprint(offset)
		resp := call(t, h, get("/series", q))
		var page forecast.SeriesPage
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("series %v: %d %v %s", q, resp.StatusCode, err, resp.Body)
		}
		all = append(all, page.Series...)
		if page.NextOffset == nil {
			if len(all) != page.Total {
				t.Fatalf("series %v: %d listed, total %d", q, len(all), page.Total)
			}
			return all
		}
		offset = *page.NextOffset
	}
}

// TestShardCacheBoundsTheShardsLoaded serves products of eight shards through a cache of two
// and counts what is read: a reload reads the manifest, the LSTM and the group results and no
// shard; a product's first request reads exactly its shard's parts and artifacts; never more
// than two shards are held; concurrent first requests for one shard share one load; a shard
// whose refit failed is served by fitting on demand.
func TestShardCacheBoundsTheShardsLoaded(t *testing.T) {
	e, single, data := trainSingle(t)
	const count = 8
	m := publishSharded(t, e.Store, single, data, count, "sharded", 5)
	reads := &readCounter{Store: e.Store}
	h := api.New(reads, handlertest.Logger(t))
	h.ShardCache = 2

	health := func() api.Health {
		var out api.Health
		if err := json.Unmarshal([]byte(call(t, h, get("/health", nil)).Body), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if s := health().Shards; s == nil || s.Count != count || s.Cache != 2 || s.Loaded != 0 || s.Loads != 0 {
		t.Fatalf("after the reload: shards %+v", s)
	}
	if got := reads.take(""); !slices.Equal(got, sorted([]string{pipeline.ManifestKey, m.LSTM.Key, m.Groups.Key})) {
		t.Fatalf("the reload read %v", got)
	}
	// A group and an unknown category come from the group results: no shard is read.
	for _, q := range []map[string]string{{"category": "Toys"}, {"category": "Nothing"}, nil} {
		call(t, h, get("/forecast", q))
	}
	if got := reads.take("data/"); len(got) != 0 {
		t.Fatalf("group requests read %v", got)
	}

	products := map[int][]string{} // by shard
	for i := 1; i <= shardedData.Products; i++ {
		id := fmt.Sprintf("P%04d", i)
		products[shards.Of(id, count)] = append(products[shards.Of(id, count)], id)
	}
	held := map[int]bool{} // the shards a cache of two holds, least recently used first
	var order []int
	loads := int64(0)
	for _, k := range []int{0, 1, 0, 2, 3, 3, 1, 5, 0, 6, 7, 2} {
		ids := products[k]
		if len(ids) == 0 {
			continue
		}
		resp := call(t, h, get("/forecast", map[string]string{"product_id": ids[0]}))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("product %s: %d %s", ids[0], resp.StatusCode, resp.Body)
		}
		var a forecast.Response
		json.Unmarshal([]byte(resp.Body), &a)
		if (k == 5) != (a.Series.TrendModel == forecast.TrendFittedOnDemand) || (k == 5) != (a.Selection.Source == forecast.SelectionOnDemand) {
			t.Errorf("shard %d (refit failed: %v): trend %s, selection %s", k, k == 5, a.Series.TrendModel, a.Selection.Source)
		}
		var want []string
		if !held[k] {
			loads++
			for _, p := range m.Shards[k].Data.Parts {
				want = append(want, p.Key)
			}
			if k != 5 {
				want = append(want, m.Shards[k].Trend.Key, m.Shards[k].Selection.Key)
			}
			if len(order) == 2 {
				delete(held, order[0])
				order = order[1:]
			}
			held[k] = true
		} else {
			order = slices.DeleteFunc(order, func(x int) bool { return x == k })
		}
		order = append(order, k)
		got := slices.DeleteFunc(reads.take(""), func(key string) bool { return key == pipeline.ManifestKey })
		if !slices.Equal(got, sorted(want)) {
			t.Errorf("product %s of shard %d read %v, want %v", ids[0], k, got, sorted(want))
		}
		if s := health().Shards; s.Loaded > 2 || s.Peak > 2 || s.Loads != loads {
			t.Errorf("after product %s of shard %d: shards %+v, want at most 2 held and %d loads", ids[0], k, s, loads)
		}
	}
	// Concurrent first requests for one shard share one load.
	k := 4
	if held[k] || len(products[k]) == 0 {
		t.Fatalf("shard %d is held or has no product", k)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			call(t, h, get("/forecast", map[string]string{"product_id": products[k][0], "model": "trend"}))
		})
	}
	wg.Wait()
	if s := health().Shards; s.Loads != loads+1 || s.Peak > 2 {
		t.Errorf("six concurrent requests for shard %d: shards %+v, want %d loads", k, s, loads+1)
	}
	delete(held, order[0])
	held[k] = true
	reads.take("")
	// An ad-hoc filter reads every shard it does not hold once, and keeps none of them.
	if resp := call(t, h, get("/forecast", map[string]string{"category": "Toys", "min_rating": "3"})); resp.StatusCode != http.StatusOK {
		t.Fatalf("filter: %d %s", resp.StatusCode, resp.Body)
	}
	var want []string
	for k, s := range m.Shards {
		if !held[k] {
			for _, p := range s.Data.Parts {
				want = append(want, p.Key)
			}
		}
	}
	if got := reads.take("data/"); !slices.Equal(got, sorted(want)) {
		t.Errorf("the filter read %v, want %v", got, sorted(want))
	}
	if s := health().Shards; s.Loaded != 2 || s.Peak > 2 || s.Loads != loads+1+int64(count-2) {
		t.Errorf("after a filter: shards %+v", s)
	}
	// Its history is the forecast's: nothing is read again.
	if resp := call(t, h, get("/series/history", map[string]string{"category": "Toys", "min_rating": "3"})); resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %d %s", resp.StatusCode, resp.Body)
	}
	if got := reads.take("data/"); len(got) != 0 {
		t.Errorf("the filter's history read %v", got)
	}
	// A search reads every shard's rows it does not hold and the artifacts of the shard its
	// page lists only.
	resp := call(t, h, get("/series", map[string]string{"q": "P0001", "kind": "product"}))
	var page forecast.SeriesPage
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || page.Total != 1 || len(page.Series) != 1 || page.Series[0].Name != "P0001" {
		t.Fatalf("search: %d %s", resp.StatusCode, resp.Body)
	}
	if k := shards.Of("P0001", count); !held[k] && k != 5 {
		want = append(want, m.Shards[k].Trend.Key, m.Shards[k].Selection.Key)
	}
	if got := slices.DeleteFunc(reads.take(""), func(key string) bool { return key == pipeline.ManifestKey }); !slices.Equal(got, sorted(want)) {
		t.Errorf("the search read %v, want %v", got, sorted(want))
	}
	if s := health().Shards; s.Loaded != 2 || s.Peak > 2 {
		t.Errorf("after a search: shards %+v", s)
	}
	// A page of products loads the shard its products are in, and no other.
	last := count - 1
	for len(products[last]) == 0 {
		last--
	}
	offset := shardedData.Products - len(products[last])
	resp = call(t, h, get("/series", map[string]string{"kind": "product", "limit": "1", "offset": fmt.Sprint(offset)}))
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil || page.Total != shardedData.Products || len(page.Series) != 1 || !slices.Contains(products[last], page.Series[0].Name) {
		t.Fatalf("page at %d: %d %s", offset, resp.StatusCode, resp.Body)
	}
	want = nil
	if !held[last] {
		for _, p := range m.Shards[last].Data.Parts {
			want = append(want, p.Key)
		}
		if last != 5 {
			want = append(want, m.Shards[last].Trend.Key, m.Shards[last].Selection.Key)
		}
	}
	if got := slices.DeleteFunc(reads.take(""), func(key string) bool { return key == pipeline.ManifestKey }); !slices.Equal(got, sorted(want)) {
		t.Errorf("the page of shard %d read %v, want %v", last, got, sorted(want))
	}
	if s := health().Shards; s.Loaded != 2 || s.Peak > 2 {
		t.Errorf("after a page: shards %+v", s)
	}
}

// TestAShardedModelThatCannotLoadLeavesTheOlderServing publishes a sharded model, then one whose
// group results cannot be read: the API serves the newest readable one, the first sharded
// model, and says why.
func TestAShardedModelThatCannotLoadLeavesTheOlderServing(t *testing.T) {
	e, single, data := trainSingle(t)
	h := api.New(e.Store, handlertest.Logger(t))
	if resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001"})); resp.Headers[api.ModelVersionHeader] != single.Version {
		t.Fatalf("single file: %d %v", resp.StatusCode, resp.Headers)
	}
	m := publishSharded(t, e.Store, single, data, 2, "sharded")
	m.Version, m.Groups = "broken", &pipeline.Artifact{Key: pipeline.GroupsKey("missing"), ETag: `"0"`}
	_, current, err := pipeline.ReadManifest(context.Background(), e.Store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteManifest(context.Background(), e.Store, m, current.ETag); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*api.Handler{h, api.New(e.Store, handlertest.Logger(t))} {
		resp := call(t, h, get("/forecast", map[string]string{"product_id": "P0001"}))
		if resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != "sharded" || !strings.Contains(resp.Headers[api.ReloadErrorHeader], pipeline.GroupsKey("missing")) {
			t.Errorf("a sharded model without its group results: %d %v", resp.StatusCode, resp.Headers)
		}
	}
}

// TestTheAPIServesWhatThePipelinePublishes trains a dataset of four shards through the real
// handlers — the fine-tune, the refit's shard step on every shard and its group step, the
// publish — and checks what the API answers and reads: the reload reads no shard; a product
// reads its own shard and is served by its shard's precomputed models; a group by the group
// results' precomputed models; a filter from every shard; the series list pages through every
// product and group the pipeline fitted.
func TestTheAPIServesWhatThePipelinePublishes(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	data := handlertest.Generated(t, shardedData)
	const count = 4
	obj, index := e.PutShards(data, count)
	in := handlertest.ShardedTaskInput("sharded", obj)
	in.DatasetWritten = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	tuned, err := handlertest.SmallFineTune(t, e.Store).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	refitted := handlertest.Refit(t, refit.New(e.Store, handlertest.Logger(t)), in, tuned)
	published, err := publish.New(e.Store, handlertest.Logger(t)).Handle(ctx, pipeline.PublishInput{
		TaskInput: in, Results: &pipeline.TrainResults{Refit: refitted, FineTune: tuned},
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := pipeline.ReadManifest(ctx, e.Store)
	if err != nil || len(m.Shards) != count || m.Groups == nil || m.Version != published.Version {
		t.Fatalf("published %+v: %v", m, err)
	}

	reads := &readCounter{Store: e.Store}
	h := api.New(reads, handlertest.Logger(t))
	h.ShardCache = 2
	if resp := call(t, h, get("/health", nil)); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"count":4`) {
		t.Fatalf("health: %d %s", resp.StatusCode, resp.Body)
	}
	if got := reads.take(""); !slices.Equal(got, sorted([]string{pipeline.ManifestKey, m.LSTM.Key, m.Groups.Key})) {
		t.Fatalf("the reload read %v", got)
	}
	forecastOf := func(q map[string]string) forecast.Response {
		t.Helper()
		resp := call(t, h, get("/forecast", q))
		var a forecast.Response
		if err := json.Unmarshal([]byte(resp.Body), &a); err != nil || resp.StatusCode != http.StatusOK || resp.Headers[api.ModelVersionHeader] != m.Version {
			t.Fatalf("forecast %v: %d %v %s", q, resp.StatusCode, err, resp.Body)
		}
		return a
	}
	var ids []string // products of two shards
	for i := 1; len(ids) < 2; i++ {
		if id := fmt.Sprintf("P%04d", i); len(ids) == 0 || shards.Of(id, count) != shards.Of(ids[0], count) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		a := forecastOf(map[string]string{"product_id": id})
		if a.Series.TrendModel != forecast.TrendPrecomputed || a.Selection == nil || a.Selection.Source != forecast.SelectionPrecomputed {
			t.Errorf("product %s: trend %s, selection %+v", id, a.Series.TrendModel, a.Selection)
		}
		k := shards.Of(id, count)
		var want []string
		for _, p := range index[k].Parts {
			want = append(want, p.Key)
		}
		want = append(want, m.Shards[k].Trend.Key, m.Shards[k].Selection.Key)
		if got := slices.DeleteFunc(reads.take(""), func(key string) bool { return key == pipeline.ManifestKey }); !slices.Equal(got, sorted(want)) {
			t.Errorf("product %s read %v, want its shard %d: %v", id, got, k, sorted(want))
		}
	}
	for _, q := range []map[string]string{nil, {"category": "Clothing"}, {"region": "South", "model": "trend"}} {
		a := forecastOf(q)
		if a.Series.TrendModel != forecast.TrendPrecomputed || (a.Selection != nil && a.Selection.Source != forecast.SelectionPrecomputed) {
			t.Errorf("group %v: trend %s, selection %+v", q, a.Series.TrendModel, a.Selection)
		}
	}
	if got := reads.take("data/"); len(got) != 0 {
		t.Errorf("group requests read %v", got)
	}
	if a := forecastOf(map[string]string{"region": "West", "max_price": "150"}); a.Series.TrendModel != forecast.TrendFittedOnDemand || a.Series.Standard {
		t.Errorf("filter: %+v", a.Series)
	}
	listed := seriesEntries(t, h, map[string]string{"limit": "7"})
	products, groups := 0, 0
	for _, s := range listed {
		switch {
		case s.Kind == forecast.KindProduct:
			products++
		case s.TrendFit == forecast.TrendFittedOnDemand || s.Selection.Source == forecast.SelectionOnDemand:
			t.Errorf("group %s has no precomputed model: %+v", s.Key, s)
		default:
			groups++
		}
	}
	if products != shardedData.Products || groups < 3 {
		t.Errorf("listed %d products and %d groups", products, groups)
	}
	if resp := call(t, h, get("/health", nil)); !strings.Contains(resp.Body, `"peak":2`) {
		t.Errorf("health after paging: %s", resp.Body)
	}
}
