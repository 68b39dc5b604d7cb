package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"steward/rdap"
	"steward/sqlstore"
	"steward/web"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs := m.flags("serve", "[flags]")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory; a demo instance is created there if it holds none")
	httpAddr := fs.String("http", "", "HTTP listen address (default: the instance's, else "+defaultHTTP+")")
	preset := fs.String("preset", "community", "preset charter of a demo instance created by serve")
	interval := fs.Duration("checkpoint-interval", 500*time.Millisecond, "how often a checkpoint is signed while there are new entries (half a second, so that one is signed at least every second even while the store is busy)")
	insecure := fs.Bool("insecure-cookies", false, "send cookies without the Secure attribute (plain HTTP on a host other than localhost)")
	dnsAddr := fs.String("dns", "", "serve the signed root zone over DNS (UDP and TCP) at this address, e.g. 127.0.0.1:5353")
	allowXfr := fs.String("allow-transfer", "127.0.0.0/8,::1/128", "comma-separated prefixes allowed to take the zone by AXFR/IXFR")
	notify := fs.String("notify", "", "comma-separated host:port[@KEYNAME] of secondaries to NOTIFY of each new serial, signed with that TSIG key")
	tsig := fs.String("tsig", "", "comma-separated [ALGORITHM:]NAME:BASE64SECRET TSIG keys (default algorithm hmac-sha256); prefer --tsig-file, which keeps secrets off the command line")
	var tsigFiles []string
	fs.Func("tsig-file", "a file of TSIG keys: BIND key statements (tsig-keygen, rndc-confgen), Knot's YAML (keymgr -t) or [ALGORITHM:]NAME:SECRET lines; repeatable. With any TSIG key, transfers need one, and NOTIFY is signed with the first unless --notify names one", func(v string) error {
		tsigFiles = append(tsigFiles, v)
		return nil
	})
	algorithm := fs.Int("dnssec-algorithm", 13, "algorithm of the root zone's first DNSSEC keys: 13 (ECDSA P-256), 15 (Ed25519) or 8 (RSA/SHA-256)")
	identity := fs.String("dnssec-identity", "", "age identity file unlocking the DNSSEC keys (default DATA/keys/dnssec.identity, created if missing)")
	smtpAddr := fs.String("smtp", "", "SMTP server (host:port) for e-mail: confirmation links, ballots, outcomes; none if empty")
	smtpFrom := fs.String("smtp-from", "", "sender address of e-mail (default steward@ the host of --public-url)")
	smtpUser := fs.String("smtp-user", "", "SMTP user name for PLAIN authentication (password in $STEWARD_SMTP_PASSWORD)")
	publicURL := fs.String("public-url", "", "the web UI's public URL, for links in e-mail (default the HTTP address)")
	checkPort := fs.Uint("check-port", 53, "port on which the technical checks of change requests query name servers (another for lab instances)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	gcPercent := fs.Int("gc-percent", 400, "garbage collection target percentage, as GOGC (which, when set, wins): the live heap is mostly the RDAP snapshot and the number index, which change rarely, so collecting less often than Go's default 100 trades memory (up to 1+N/100 times the live heap; GOMEMLIMIT caps it) for steadier response times")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("serve takes no arguments")
	}
	if *interval <= 0 {
		return usagef("--checkpoint-interval must be positive")
	}
	if *gcPercent <= 0 {
		return usagef("--gc-percent must be positive")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if *checkPort == 0 || *checkPort > 65535 {
		return usagef("--check-port must be a port number, 1 to 65535")
	}
	log, err := m.logger(*logFormat, *logLevel)
	if err != nil {
		return err
	}

	if !isInstance(*dir) {
		if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
			return fmt.Errorf("%s is not empty and holds no instance: give another --data directory", *dir)
		}
		fmt.Fprintf(m.Stdout, "No instance in %s: creating a demo instance.\n", *dir)
		text, name, err := charterText(*preset, "")
		if err != nil {
			return err
		}
		in, err := m.create(ctx, *dir, &Config{Origin: "steward.localhost/demo", Store: "sqlite", HTTP: defaultHTTP}, "", name, text, setup{operator: "operator", demo: true})
		if err != nil {
			return err
		}
		if err := in.Close(); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, logger: log, checkpointInterval: *interval, metrics: sqlstore.NewMetrics(reg)})
	if err != nil {
		return err
	}
	defer in.Close()

	pub, dnsSrv, err := m.startPublishing(ctx, in, log, reg, publishFlags{dns: *dnsAddr, allow: *allowXfr, notify: *notify, tsig: *tsig, tsigFiles: tsigFiles, identity: *identity, algorithm: *algorithm})
	if err != nil {
		return err
	}
	if dnsSrv != nil {
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = dnsSrv.Close(sctx)
		}()
	}

	addr := *httpAddr
	if addr == "" {
		addr = in.cfg.HTTP
	}
	if addr == "" {
		addr = defaultHTTP
	}
	follower := rdap.NewFollower(rdap.FollowerConfig{Source: in.store, Clock: m.Clock, Logger: log})
	go follower.Run(ctx)
	runner, err := m.newWorkflow(in, log, pub, workflowFlags{smtp: *smtpAddr, from: *smtpFrom, user: *smtpUser, publicURL: *publicURL, httpAddr: addr, checkPort: uint16(*checkPort)})
	if err != nil {
		return err
	}
	srv := web.New(web.Config{
		Store: in.store, Clock: m.Clock, Logger: log, Gatherer: reg, VerifierKey: in.vkey,
		SessionKey: in.sessionKey, InsecureCookies: *insecure, PasswordParams: m.PasswordParams,
		Published: pub.published, RDAP: follower, RequestsChanged: runner.Wake,
	})
	if err := srv.Open(addr); err != nil {
		return err
	}
	url := "http://" + srv.Addr().String()
	if *publicURL == "" {
		runner.SetBaseURL(url)
	}
	go runner.Run(ctx)
	if err := m.startForumMail(ctx, in, log, workflowFlags{smtp: *smtpAddr, from: *smtpFrom, user: *smtpUser, publicURL: *publicURL, httpAddr: srv.Addr().String()}); err != nil {
		return err
	}
	log.Info("serving", "url", url, "data", *dir, "origin", in.cfg.Origin, "store", in.store.Dialect().Name())
	fmt.Fprintf(m.Stdout, "Steward is serving %s at %s\n", in.cfg.Origin, url)
	if dnsSrv != nil {
		udp, _ := dnsSrv.Addr()
		fmt.Fprintf(m.Stdout, "Steward is serving the root zone over DNS at %s\n", udp)
	}
	if m.Ready != nil {
		m.Ready <- srv.Addr().String()
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(sctx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	return nil
}
