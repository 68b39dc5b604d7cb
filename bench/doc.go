// Package bench holds steward's end-to-end benchmarks: acknowledged
// (durable) events per second through a real store, in process and over
// HTTP, on SQLite and PostgreSQL, and the raw single-row commit rates of the
// same databases on the same disk, measured as references. The proof
// benchmarks on a large ledger live beside the store, in
// sqlstore/bench_test.go. run.sh runs them all and prints the figures
// against the goals; README.md says how to read them.
//
// The package has no code outside its tests: `go test ./...` compiles the
// benchmarks and runs none of them.
package bench
