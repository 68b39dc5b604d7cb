package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"steward/storetest"
)

// TestDurability kills a serving steward with SIGKILL in the middle of a
// stream of acknowledged writes, restarts it on the same data, and checks
// that nothing acknowledged was lost or doubled: every write that answered
// 200 is in exactly one ledger entry, the entries are numbered without
// gaps, and steward audit passes. It runs the real binary, once on SQLite
// and once on PostgreSQL.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the steward binary; skipped under -short")
	}
	bin := buildSteward(t)
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		checkDurability(t, bin, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		checkDurability(t, bin, storetest.PostgresDSN(t))
	})
}

func checkDurability(t *testing.T, bin, dsn string) {
	dir := filepath.Join(t.TempDir(), "instance")
	args := []string{"init", "--preset", "community", "--demo"}
	if dsn != "" {
		args = append(args, "--store", dsn)
	}
	runSteward(t, bin, append(args, dir)...)

	srv := startSteward(t, bin, dir)
	bearer := demoToken(t, srv.url)

	// 16 clients change the operator's affiliation as fast as they can,
	// each write naming itself; a write is acknowledged when it answers 200.
	var (
		mu     sync.Mutex
		acked  = map[string]bool{}
		sent   int
		failed []string // answers other than 200 from a live server
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for c := range 16 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				aff := fmt.Sprintf("ack-%d-%d", c, n)
				status, body, err := patchAffiliation(client, srv.url, bearer, aff)
				mu.Lock()
				sent++
				switch {
				case err != nil: // the server is gone
				case status == http.StatusOK:
					acked[aff] = true
				default:
					failed = append(failed, fmt.Sprintf("%s: %d %s", aff, status, body))
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second)
	srv.kill()
	mu.Lock()
	atKill := len(acked)
	mu.Unlock()
	time.Sleep(100 * time.Millisecond) // the clients see the server gone
	close(stop)
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d writes answered other than 200, such as %s", len(failed), failed[0])
	}
	if atKill == 0 {
		t.Fatalf("no write was acknowledged in 2 s\n%s", srv.stderr)
	}
	t.Logf("%d writes sent, %d acknowledged before SIGKILL", sent, len(acked))

	srv = startSteward(t, bin, dir)
	defer srv.stop(t)

	// Every acknowledged write is in exactly one entry; entries are
	// numbered from 0 without gaps.
	counts := map[string]int{}
	var lastAffiliation string
	var size int64
	after := ""
	for {
		u := srv.url + "/api/v1/log/entries?limit=1000"
		if after != "" {
			u += "&after=" + after
		}
		var page struct {
			Items []struct {
				Seq     int64           `json:"seq"`
				Kind    string          `json:"kind"`
				Payload json.RawMessage `json:"payload"`
			} `json:"items"`
			Next string `json:"next"`
		}
		getJSON(t, u, &page)
		for _, e := range page.Items {
			if e.Seq != size {
				t.Fatalf("entry %d follows entry %d", e.Seq, size-1)
			}
			size++
			if e.Kind != "participant.updated" {
				continue
			}
			var p struct {
				Handle      string `json:"handle"`
				Affiliation string `json:"affiliation"`
			}
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatalf("entry %d: %v", e.Seq, err)
			}
			counts[p.Affiliation]++
			if p.Handle == "operator" {
				lastAffiliation = p.Affiliation
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	var info struct {
		LedgerSize int64 `json:"ledger_size"`
	}
	getJSON(t, srv.url+"/api/v1/instance", &info)
	if info.LedgerSize != size {
		t.Errorf("the instance reports %d entries; the pages held %d", info.LedgerSize, size)
	}
	lost, unacked := 0, 0
	for aff := range acked {
		if counts[aff] != 1 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged write %s is in %d entries, want 1", aff, counts[aff])
			}
		}
	}
	for aff, n := range counts {
		if n > 1 {
			t.Errorf("write %s is in %d entries", aff, n)
		}
		if strings.HasPrefix(aff, "ack-") && !acked[aff] {
			unacked++ // committed, but its answer was lost to the kill
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost or doubled", lost, len(acked))
	}
	t.Logf("%d entries after restart; %d writes committed whose answers the kill lost", size, unacked)

	// The state agrees with the last entry.
	var op struct {
		Affiliation string `json:"affiliation"`
	}
	getJSON(t, srv.url+"/api/v1/participants/operator", &op)
	if op.Affiliation != lastAffiliation {
		t.Errorf("the operator's affiliation is %q; the last entry says %q", op.Affiliation, lastAffiliation)
	}

	// Wait for a checkpoint of the whole ledger, then audit it. (With
	// PostgreSQL, the killed process's checkpoint lease must expire first.)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var cp struct {
			Size int64 `json:"size"`
		}
		getJSON(t, srv.url+"/api/v1/log/checkpoint", &cp)
		if cp.Size == size {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of %d entries after restart (latest: %d)", size, cp.Size)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := runSteward(t, bin, "audit", srv.url, "--state", filepath.Join(t.TempDir(), "audit.json"))
	if !strings.Contains(out, "audit passed") {
		t.Errorf("steward audit printed:\n%s", out)
	}
}

// buildSteward builds the steward binary into a temporary directory.
func buildSteward(t *testing.T) string {
	t.Helper()
	goTool, err := osexec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "steward")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runSteward runs the binary to completion and returns its output; it
// fails the test if the command fails.
func runSteward(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := osexec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// stewardServer is a running steward serve.
type stewardServer struct {
	cmd    *osexec.Cmd
	url    string
	exited chan struct{}
	stderr *tailBuffer
}

// startSteward starts steward serve on a free loopback port and waits for
// it to say where it serves.
func startSteward(t *testing.T, bin, dir string) *stewardServer {
	t.Helper()
	s := &stewardServer{exited: make(chan struct{}), stderr: &tailBuffer{max: 64 << 10}}
	s.cmd = osexec.Command(bin, "serve", "--data", dir, "--http", "127.0.0.1:0", "--log-level", "warn")
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.kill)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "Steward is serving "); ok {
				if _, u, ok := strings.Cut(rest, " at "); ok {
					urls <- strings.TrimSpace(u)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s.url = <-urls:
	case <-s.exited:
		t.Fatalf("steward serve exited before serving:\n%s", s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("steward serve did not say where it serves within a minute:\n%s", s.stderr)
	}
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Fatalf("steward serve said it serves at %q", s.url)
	}
	return s
}

// kill ends the server with SIGKILL and waits for it to exit.
func (s *stewardServer) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// stop asks the server to shut down and waits, killing it after a while.
func (s *stewardServer) stop(t *testing.T) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("steward serve exited with status %d after SIGTERM:\n%s", code, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("steward serve did not stop within 20 s of SIGTERM")
		s.kill()
	}
}

// demoToken logs in as the demo operator and returns an API token.
func demoToken(t *testing.T, base string) string {
	t.Helper()
	body := `{"handle":"operator","password":"demo-password","name":"t","scopes":["write","read"],"ttl_days":1}`
	resp, err := http.Post(base+"/api/v1/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/tokens: %s\n%s", resp.Status, b)
	}
	var tok struct {
		Bearer string `json:"bearer"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.Bearer == "" {
		t.Fatalf("POST /api/v1/tokens answered %s (%v)", b, err)
	}
	return tok.Bearer
}

func patchAffiliation(c *http.Client, base, bearer, aff string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"affiliation": aff})
	req, err := http.NewRequest(http.MethodPatch, base+"/api/v1/participants/operator", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, "", err // cut off: not an answer
	}
	return resp.StatusCode, string(b), nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
