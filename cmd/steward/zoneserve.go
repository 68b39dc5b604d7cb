package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"steward/dnsserver"
	"steward/zone"
)

// zoneServe serves one zone file authoritatively, as `serve --dns` serves
// the root zone, with no instance behind it: a signed zone (from `zone
// sign` or any signer) or an unsigned one.
func (m *Main) zoneServe(ctx context.Context, args []string) error {
	fs := m.flags("zone serve", "--in FILE --dns ADDR [--origin NAME]")
	in := fs.String("in", "", "the zone file")
	addr := fs.String("dns", "", "the address to answer on, over UDP and TCP (e.g. 127.0.0.1:5353)")
	origin := fs.String("origin", ".", "the origin for relative names in the file; the zone is the SOA's owner")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *in == "" || *addr == "" {
		return usagef("zone serve takes --in FILE and --dns ADDR")
	}
	log, err := m.logger("text", "info")
	if err != nil {
		return err
	}
	start := time.Now()
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	z, err := zone.Load(f, *in, *origin)
	f.Close()
	if err != nil {
		return err
	}
	read := time.Since(start)
	srv := dnsserver.New(dnsserver.Config{Logger: log, Registerer: prometheus.NewRegistry()})
	srv.SetZone(z)
	if err := srv.Open(*addr, *addr); err != nil {
		return fmt.Errorf("DNS server: %w", err)
	}
	// Give back what loading needed and serving does not.
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	log.Info("serving", "zone", z.Origin, "serial", z.Serial, "names", len(z.Names()), "dns", *addr,
		"read_seconds", read.Seconds(), "ready_seconds", time.Since(start).Seconds(), "heap_mb", ms.HeapInuse>>20)
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Close(cctx)
}
