package httpapi

// GCPercent is the garbage collector's target (GOGC) that agora serve
// runs with unless told otherwise (--gc-percent; the GOGC environment
// variable wins over both). At 10,000 votes/s the vote path allocates
// tens of megabytes a second: with Go's default of 100, a collection runs
// every second or less and takes a processor for tens of milliseconds on a
// two-core machine, which votes queue behind. At 400 the heap may grow to
// five times what is live before a collection (instead of twice), so
// collections are four times rarer. The vote benchmarks run with it too,
// as the server does.
const GCPercent = 400
