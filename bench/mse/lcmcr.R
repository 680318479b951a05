# R's LCMCR on a Girok capture-pattern table: one chain, its draws of N
# (one a line) and, on the last line, the CPU seconds it took from the
# model's creation to the last draw ("# cpu SECONDS").
#
#   Rscript bench/mse/lcmcr.R TABLE.tsv K BURN_IN SAMPLES THIN SEED OUT
suppressMessages(library(LCMCR))
args <- commandArgs(trailingOnly = TRUE)
table <- read.delim(args[1], comment.char = "#", colClasses = "character")
k <- as.integer(args[2])
burn_in <- as.integer(args[3])
samples <- as.integer(args[4])
thin <- as.integer(args[5])
seed <- as.integer(args[6])
patterns <- rep(table$pattern, as.integer(table$count))
lists <- nchar(table$pattern[1])
captures <- as.data.frame(lapply(seq_len(lists), function(j) {
    factor(substr(patterns, j, j), levels = c("0", "1"))
}))
names(captures) <- paste0("list", seq_len(lists))
start <- proc.time()
sampler <- lcmCR(captures, K = k, a_alpha = 0.25, b_alpha = 0.25, seed = seed,
                 buffer_size = samples, thinning = thin, verbose = FALSE)
draws <- lcmCR_PostSampl(sampler, burnin = burn_in, samples = samples,
                         thinning = thin, output = FALSE)
used <- proc.time() - start
writeLines(c(format(draws, scientific = FALSE, trim = TRUE),
             sprintf("# cpu %.3f", used[["user.self"]] + used[["sys.self"]])), args[7])
