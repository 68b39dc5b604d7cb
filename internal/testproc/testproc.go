// Package testproc runs the real programs tests check steward against
// (NSD, Knot, Unbound, validators): finding them, giving them free
// loopback ports, and stopping them when a test ends.
package testproc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Need returns the path of a program the test needs. When it is missing
// the test is skipped, except under CI (env CI set), where it fails:
// scripts/test.sh installs every program the tests need.
func Need(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if fi, err := os.Stat(filepath.Join(dir, bin)); err == nil && !fi.IsDir() {
				return filepath.Join(dir, bin)
			}
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: run scripts/test.sh, which installs it", bin)
		}
		t.Skipf("%s is not installed", bin)
	}
	return p
}

// FreePort returns a port free on 127.0.0.1 for both UDP and TCP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return port
		}
	}
	t.Fatal("no free port on 127.0.0.1")
	return 0
}

// Start runs a server program in dir, its output appended to
// dir/stderr.log, and returns a function that stops it: SIGTERM, then
// SIGKILL if it lingers. The program is also stopped when the test ends.
func Start(t testing.TB, bin string, args []string, dir string) (stop func()) {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logf.Close()
	}
	t.Cleanup(stop)
	return stop
}

// Tail returns the last n bytes of s, for quoting logs in failures.
func Tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// NSDServer returns the server: clause of an nsd.conf for a test: NSD on
// 127.0.0.1 at port, running as the current user without chroot, every
// file in dir, rate limiting off. Callers append options of their own to
// the clause, then their other clauses.
func NSDServer(dir string, port int) string {
	return fmt.Sprintf(`server:
	ip-address: 127.0.0.1@%[2]d
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "%[1]s"
	database: ""
	pidfile: "%[1]s/nsd.pid"
	xfrdfile: "%[1]s/xfrd.state"
	zonelistfile: "%[1]s/zone.list"
	xfrdir: "%[1]s"
	cookie-secret-file: "%[1]s/cookiesecrets.txt"
	logfile: "%[1]s/nsd.log"
	verbosity: 2
	server-count: 1
	rrl-ratelimit: 0
	zonefiles-write: 0
`, dir, port)
}
