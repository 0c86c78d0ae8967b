package httpapi

// GCPercent is the garbage collector's target (GOGC) that agora serve
// runs with unless told otherwise (--gc-percent; the GOGC environment
// variable wins over both): Go's own default, 100, so that the heap may
// grow to twice what is live before a collection. The vote benchmarks run
// with it too, as the server does.
//
// A larger target trades memory for processor time, and the memory is an
// attacker's lever: at 400, a vote at 10,000 votes/s cost 103, 95 and 104
// CPU-µs against 123, 108 and 118 at 100 (loaded A/B pairs), but the RSS
// one contributor's 2,000 unvoted battles add under the default caps grew
// from 21–22 MB to 54–64 MB (over the 40 MB operations.md holds it to),
// and an idle websocket from 20 to 27 KiB. An operator with memory to
// spare and trusted traffic may raise it.
const GCPercent = 100
