# Regenerates r_ets.json: R's forecast::ets() on R's own data sets (run from this directory:
# Rscript r_ets.R). Each series: its values, period, the model ets() chooses by AICc with its
# AICc and 12-step forecast, and for every admissible model the AICc of its own fit.
suppressPackageStartupMessages(library(forecast))
sets <- list(AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, WWWusage = WWWusage,
             nottem = nottem, UKDriverDeaths = UKDriverDeaths, lynx = lynx)
out <- lapply(names(sets), function(name) {
  y <- sets[[name]]
  fit <- ets(y)
  fc <- forecast(fit, h = 12, level = 80)
  specs <- c("ANN", "AAN", "AAdN", "MNN", "MAN", "MAdN")
  if (frequency(y) > 1) specs <- c(specs, "ANA", "AAA", "AAdA", "MNA", "MAA", "MAdA", "MNM", "MAM", "MAdM")
  each <- lapply(specs, function(s) {
    damped <- grepl("Ad", s)
    code <- sub("Ad", "A", s)
    f <- tryCatch(ets(y, model = code, damped = damped), error = function(e) NULL)
    if (is.null(f)) return(NULL)
    list(model = s, aicc = f$aicc, mean = as.numeric(forecast(f, h = 12)$mean))
  })
  each <- Filter(Negate(is.null), each)
  list(name = name, period = frequency(y), values = as.numeric(y),
       chosen = sub("ETS\\((.),(.*),(.)\\)", "\\1\\2\\3", gsub(",", ",", fit$method)),
       aicc = fit$aicc, mean = as.numeric(fc$mean), lower = as.numeric(fc$lower), upper = as.numeric(fc$upper),
       models = each)
})
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "r_ets.json")
