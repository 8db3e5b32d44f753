# R's forecast::ets(), forecast::auto.arima() and prophet() on the splits that
# `stockcast backtest --export DIR` wrote (DIR/history.csv, DIR/origins.csv), so that they
# forecast exactly the windows stockcast's models forecast. Writes DIR/r_forecasts.csv in the
# same format as DIR/forecasts.csv (steps 0-based, 80% intervals); `stockcast backtest --score
# DIR` then scores them all together.
#
# usage: Rscript infra/accuracy/r_models.R DIR   (ACCURACY_CORES=2 fits on two cores)
#
# Unobserved steps (NA) stay NA for auto.arima (its Kalman filter skips them) and prophet (the
# rows are left out); ets() cannot take them, so it gets na.interp()'s interpolation.
suppressPackageStartupMessages({
  library(forecast)
  library(prophet)
  library(parallel)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript r_models.R DIR")
dir <- args[1]
cores <- as.integer(Sys.getenv("ACCURACY_CORES", "2"))

history <- read.csv(file.path(dir, "history.csv"), stringsAsFactors = FALSE, na.strings = "NA")
origins <- read.csv(file.path(dir, "origins.csv"), stringsAsFactors = FALSE)
history$date <- as.Date(history$date)
origins$cut_date <- as.Date(origins$cut_date)
by_series <- split(history, history$series)

rows <- function(series, origin, model, mean, lower, upper) {
  data.frame(series = series, origin = origin, step = seq_along(mean) - 1, model = model,
             mean = as.numeric(mean), lower = as.numeric(lower), upper = as.numeric(upper))
}

forecast_origin <- function(i) {
  o <- origins[i, ]
  h <- by_series[[o$series]]
  train <- h[h$date < o$cut_date, ]
  n <- nrow(train)
  H <- o$horizon
  m <- o$period
  y <- ts(train$value, frequency = m)
  out <- list()
  fit_or_na <- function(model, expr) {
    res <- tryCatch(expr, error = function(e) NULL)
    if (is.null(res)) return(rows(o$series, o$origin, model, rep(NA, H), rep(NA, H), rep(NA, H)))
    res
  }
  out[[1]] <- fit_or_na("r_ets", {
    f <- forecast(suppressWarnings(ets(na.interp(y))), h = H, level = 80)
    rows(o$series, o$origin, "r_ets", f$mean, f$lower, f$upper)
  })
  out[[2]] <- fit_or_na("r_arima", {
    f <- forecast(auto.arima(y), h = H, level = 80)
    rows(o$series, o$origin, "r_arima", f$mean, f$lower, f$upper)
  })
  out[[3]] <- fit_or_na("r_prophet", {
    df <- data.frame(ds = train$date, y = train$value)
    df <- df[!is.na(df$y), ]
    step <- if (o$frequency == "weekly") 7 else 1
    future <- if (o$frequency == "monthly") {
      data.frame(ds = seq(o$cut_date, by = "month", length.out = H))
    } else {
      data.frame(ds = o$cut_date + step * (0:(H - 1)))
    }
    invisible(capture.output(model <- suppressMessages(prophet(df))))
    p <- predict(model, future)
    rows(o$series, o$origin, "r_prophet", p$yhat, p$yhat_lower, p$yhat_upper)
  })
  do.call(rbind, out)
}

started <- Sys.time()
results <- mclapply(seq_len(nrow(origins)), forecast_origin, mc.cores = cores)
failed <- vapply(results, function(r) inherits(r, "try-error"), logical(1))
if (any(failed)) stop("R failed on ", sum(failed), " origins: ", results[failed][[1]])
all <- do.call(rbind, results)
write.csv(all, file.path(dir, "r_forecasts.csv"), row.names = FALSE, na = "NA")
cat(sprintf("R: %d series x origins in %.0f s\n", nrow(origins), as.numeric(difftime(Sys.time(), started, units = "secs"))))
