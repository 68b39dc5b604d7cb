package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"steward/internal/testdata"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"steward/charter"
	"steward/ledger"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"init"}, {"init", "a", "b"}, {"serve", "extra"}, {"charter"}, {"charter", "check"},
		{"audit"}, {"log"}, {"init", "--preset", "nope", t.TempDir()}, {"serve", "--log-format", "xml"}, {"charter", "check", "--nope", "f"}} {
		_, err := run(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("steward %q: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
}

func TestCharterCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	text, _ := charter.Preset("iana-2016")
	os.WriteFile(good, text, 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("charter: 1\nname: Bad\nregions: [africa]\nstakeholder_groups:\n  - {id: government, name: Governments}\nbodies:\n  - id: c\n    name: C\n    kind: council\n    seats:\n      - {group: goverment, region: africa, count: 2}\n    colour: blue\n"), 0o644)
	out := mustRun(t, "charter", "check", good)
	if !strings.Contains(out, "valid charter") {
		t.Errorf("good charter: %s", out)
	}
	out, err := run(t, "charter", "check", good, bad)
	if exitCode(err) != 1 {
		t.Fatalf("bad charter: exit %d", exitCode(err))
	}
	for _, want := range []string{"bad.yaml:11: bodies[0].seats[0].group", "bad.yaml:12: bodies[0].colour"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, "charter", "check", "--json", bad)
	var reports []checkReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil || len(reports) != 1 || reports[0].Valid || len(reports[0].Errors) < 2 {
		t.Errorf("--json: %v %s", err, out)
	}
	out = mustRun(t, "charter", "presets")
	for _, n := range charter.PresetNames() {
		if !strings.Contains(out, n) {
			t.Errorf("presets lacks %s", n)
		}
	}
}

func TestInitEveryPreset(t *testing.T) {
	for _, p := range charter.PresetNames() {
		t.Run(p, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "inst")
			out := mustRun(t, "init", "--preset", p, "--demo", dir)
			if !strings.Contains(out, "participants seated") {
				t.Errorf("init output:\n%s", out)
			}
			key := strings.TrimSpace(mustRun(t, "log", "key", "--data", dir))
			if _, err := note.NewVerifier(key); err != nil || !strings.HasPrefix(key, "steward.example/inst+") {
				t.Errorf("log key %q: %v", key, err)
			}
			out = mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "s.json"), dir)
			if !strings.Contains(out, "audit passed") {
				t.Errorf("audit: %s", out)
			}
			if _, err := run(t, "init", "--preset", p, dir); err == nil {
				t.Error("init over an existing instance succeeded")
			}
		})
	}
}

func TestInitBadCharterLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "inst")
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte("charter: 2\n"), 0o644)
	if _, err := run(t, "init", "--charter", f, dir); err == nil {
		t.Fatal("init with a bad charter succeeded")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("init with a bad charter left a directory")
	}
	if _, err := run(t, "init", "--origin", "Not An Origin!", dir); err == nil {
		t.Fatal("init with a bad origin succeeded")
	}
	if isInstance(dir) {
		t.Error("a failed init left an instance")
	}
}

// TestServe runs serve in-process: the API and the log work, the checkpoint
// follows new entries, audit over HTTP passes, and SIGTERM-style
// cancellation shuts down cleanly with a last checkpoint.
func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	srv := serveInProcess(t, "--data", dir, "--http", "127.0.0.1:0", "--checkpoint-interval", "100ms")
	addr := srv.HTTP
	base := "http://" + addr

	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return b
	}
	vkey := strings.TrimSpace(string(get("/log/key")))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	cp1, err := ledger.Open(get("/log/checkpoint"), v)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"handle":"newcomer","name":"New Comer","group":"civil-society","region":"africa","languages":["fr"],"email":"n@example.org","password":"a long password"}`
	resp, err := http.Post(base+"/api/v1/participants", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %s", resp.Status)
	}
	// A checkpoint covering the new entry appears within the interval. A
	// checkpoint signed meanwhile may cover only entries the zone publisher
	// wrote before the registration, so look for the registration among
	// the last entries of each new checkpoint until one covers it.
	var cp2 ledger.Checkpoint
	idx, last := int64(-1), []byte(nil)
	for deadline := time.Now().Add(10 * time.Second); last == nil; {
		cp2, err = ledger.Open(get("/log/checkpoint"), v)
		if err != nil {
			t.Fatal(err)
		}
		if cp2.Size > cp1.Size {
			idx, last = findRegistration(get, cp2.Size)
		}
		if last != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint covering the registration after a write")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var inc struct {
		Proof []string `json:"proof"`
		Leaf  string   `json:"leaf"`
	}
	json.Unmarshal(get(fmt.Sprintf("/api/v1/log/proof/inclusion?index=%d&size=%d", idx, cp2.Size)), &inc)
	if err := tlog.CheckRecord(parseProof(t, inc.Proof), cp2.Size, cp2.Root, idx, tlog.RecordHash(last)); err != nil {
		t.Errorf("inclusion proof: %v", err)
	}
	var cons struct {
		Proof []string `json:"proof"`
	}
	json.Unmarshal(get(fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", cp1.Size, cp2.Size)), &cons)
	if err := tlog.CheckTree(parseProof(t, cons.Proof), cp2.Size, cp2.Root, cp1.Size, cp1.Root); err != nil {
		t.Errorf("consistency proof: %v", err)
	}
	state := filepath.Join(t.TempDir(), "audit.json")
	if o := mustRun(t, "audit", "--state", state, base); !strings.Contains(o, "audit passed") {
		t.Errorf("audit: %s", o)
	}
	get("/metrics")
	if err := srv.Stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	if o := mustRun(t, "audit", "--state", state, dir); !strings.Contains(o, "audit passed") {
		t.Errorf("audit of the data directory after shutdown: %s", o)
	}
}

func parseProof(t *testing.T, hs []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(hs))
	for i, s := range hs {
		h, err := tlog.ParseHash(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = h
	}
	return out
}

func TestImportRootZone(t *testing.T) {
	dir := freshDemo(t)
	rootZone := testdata.RootZoneFile
	out := mustRun(t, "import", "rootzone", "--data", dir, rootZone)
	if !strings.Contains(out, "1479 TLDs added") {
		t.Fatalf("first import:\n%s", out)
	}
	out = mustRun(t, "import", "rootzone", "--data", dir, rootZone)
	if !strings.Contains(out, "0 TLDs added, 0 changed, 0 removed, 1479 unchanged; apex unchanged") {
		t.Fatalf("second import:\n%s", out)
	}
	size := ledgerSize(t, dir)
	bad := filepath.Join(t.TempDir(), "bad.zone")
	b, _ := os.ReadFile(rootZone)
	lines := strings.Split(string(b), "\n")
	lines[1000] = "org.\t172800\tIN\tTXT\t\"not a delegation\""
	lines[5] = "com.\t172800\tIN\tNS\tchanged.example."
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644)
	_, err := run(t, "import", "rootzone", "--data", dir, bad)
	if err == nil || !strings.Contains(err.Error(), "bad.zone:1001: TXT at org.") || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("malformed file: %v", err)
	}
	if ledgerSize(t, dir) != size {
		t.Error("a refused import changed the ledger")
	}
	if o := mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "a.json"), dir); !strings.Contains(o, "audit passed") {
		t.Error(o)
	}
}

func ledgerSize(t *testing.T, dir string) int64 {
	t.Helper()
	in, err := openInstance(context.Background(), dir, openOptions{readOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	n, _, err := in.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// findRegistration looks for newcomer's registration among the entries of
// the last two tiles of a tree of size entries, newest first.
func findRegistration(get func(string) []byte, size int64) (int64, []byte) {
	for n := (size - 1) / 256; n >= 0 && n >= (size-1)/256-1; n-- {
		w := 256
		if n == (size-1)/256 {
			w = int((size-1)%256 + 1)
		}
		entries, _ := ledger.DecodeBundle(get("/log/" + ledger.TilePath(tlog.Tile{H: 8, L: -1, N: n, W: w})))
		for j := len(entries) - 1; j >= 0; j-- {
			if strings.Contains(string(entries[j]), `"kind":"participant.registered"`) && strings.Contains(string(entries[j]), "newcomer") {
				return n*256 + int64(j), entries[j]
			}
		}
	}
	return -1, nil
}
