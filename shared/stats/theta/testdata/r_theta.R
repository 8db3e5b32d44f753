# Regenerates r_theta.json: R's forecast::thetaf() and decompose() on R's own data sets (run
# from this directory: Rscript r_theta.R).
suppressPackageStartupMessages(library(forecast))
sets <- list(AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, WWWusage = WWWusage, nottem = nottem)
out <- lapply(names(sets), function(name) {
  y <- sets[[name]]
  fc <- thetaf(y, h = 12, level = 80)
  fig <- if (frequency(y) > 1) as.numeric(decompose(y, type = "multiplicative")$figure) else numeric(0)
  list(name = name, period = frequency(y), values = as.numeric(y), mean = as.numeric(fc$mean),
       lower = as.numeric(fc$lower), upper = as.numeric(fc$upper), figure = fig)
})
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA), "r_theta.json")
