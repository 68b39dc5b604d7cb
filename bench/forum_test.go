package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/web"
)

// The forum at the scale of the goal: STEWARD_BENCH_FORUM_PARTICIPANTS
// participants (default 100,000) and STEWARD_BENCH_FORUM_POSTS posts
// (default 1,000,000) in threads of 100 posts spread over the seeded issue
// catalogue. The forum is seeded once, through the store in bulk (each
// command emits a thousand events), and kept in
// $TMPDIR/steward-bench-forum-P-N.db for later runs.

const postsPerThread = 100

func forumScale(b *testing.B) (participants, posts int) {
	get := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < postsPerThread {
			b.Fatalf("%s=%q: want a whole number of at least %d", name, v, postsPerThread)
		}
		return n
	}
	return get("STEWARD_BENCH_FORUM_PARTICIPANTS", 100_000), get("STEWARD_BENCH_FORUM_POSTS", 1_000_000)
}

func postBody(n int) string {
	return fmt.Sprintf("Post %d. The **root zone** should grow _slowly_, as [RFC 2826](https://www.rfc-editor.org/rfc/rfc2826) asks: "+
		"one unique root, operated in the public interest.\n\n> Quoting an earlier post, %d.\n\n- one point\n- another point with `code`\n", n, n/2)
}

// forumStore opens the seeded forum, building it first if needed.
func forumStore(b *testing.B) (*sqlstore.Store, int, int) {
	participants, posts := forumScale(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("steward-bench-forum-%d-%d.db", participants, posts))
	w, r, err := sqlite.Open(path, false)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), w, r, sqlite.Dialect{}, sqlstore.Config{Logger: quiet, CheckpointInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close(); w.Close(); r.Close() })
	threads := posts / postsPerThread
	if t, err := steward.LoadThread(context.Background(), st, int64(threads)); err == nil && t.Posts == postsPerThread {
		return st, participants, threads
	}
	start := time.Now()
	seedForum(b, st, participants, threads)
	b.Logf("seeded %d participants and %d posts in %v (%s)", participants, threads*postsPerThread, time.Since(start).Round(time.Second), path)
	return st, participants, threads
}

func seedForum(b *testing.B, st *sqlstore.Store, participants, threads int) {
	ctx := context.Background()
	text, err := charter.Preset("community")
	if err != nil {
		b.Fatal(err)
	}
	c, err := charter.Parse("community", text)
	if err != nil {
		b.Fatal(err)
	}
	must := func(cmd steward.Command) {
		if _, err := st.Do(ctx, cmd); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := steward.LoadInstance(ctx, st); err != nil {
		must(steward.CreateInstance(steward.Instance{Origin: "steward.example/forum-bench", Name: "Forum benchmark", Preset: "community"}, text))
		must(steward.SeedForum())
	}
	// Participants, 2,000 a command; a rerun picks up where a build stopped.
	var have int
	if kvs, err := st.Scan(ctx, "participant/", "", 0); err == nil {
		have = len(kvs)
	}
	for i := have; i < participants; i += 2000 {
		must(func(ctx context.Context, tx steward.Tx) (any, error) {
			for j := i; j < min(i+2000, participants); j++ {
				p := steward.Participant{Handle: fmt.Sprintf("p%06d", j), Name: fmt.Sprintf("Participant %d", j),
					Group: c.Groups[j%len(c.Groups)].ID, Region: c.Regions[j%len(c.Regions)], Languages: []string{"en"}}
				if _, err := tx.Emit(ctx, steward.ActorInit, "participant.registered", p); err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
	}
	issues, err := steward.ListIssues(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	// Threads of 100 posts, 10 threads (1,000 events) a command.
	var done int64
	if err := steward.GetJSON(ctx, st, "forum/counter/thread", &done); err != nil && steward.ErrorCode(err) != steward.ENOTFOUND {
		b.Fatal(err)
	}
	if done > 0 { // finish the thread a stopped build left short
		if t, err := steward.LoadThread(ctx, st, done); err == nil && t.Posts < postsPerThread {
			must(func(ctx context.Context, tx steward.Tx) (any, error) {
				for n := t.Posts + 1; n <= postsPerThread; n++ {
					if _, err := tx.Emit(ctx, fmt.Sprintf("p%06d", (int(done)*postsPerThread+n)%participants), "forum.post-added",
						map[string]any{"thread": done, "n": n, "body": postBody(n), "reply_to": n - 1}); err != nil {
						return nil, err
					}
				}
				return nil, nil
			})
		}
	}
	last := time.Now()
	for t := int(done) + 1; t <= threads; t += 10 {
		must(func(ctx context.Context, tx steward.Tx) (any, error) {
			for id := t; id < min(t+10, threads+1); id++ {
				author := func(n int) string { return fmt.Sprintf("p%06d", (id*postsPerThread+n*7919)%participants) }
				is := issues[id%len(issues)].ID
				if _, err := tx.Emit(ctx, author(1), "forum.thread-opened", map[string]any{"id": id, "issue": is,
					"title": fmt.Sprintf("Thread %d on %s", id, is), "body": postBody(1)}); err != nil {
					return nil, err
				}
				for n := 2; n <= postsPerThread; n++ {
					if _, err := tx.Emit(ctx, author(n), "forum.post-added", map[string]any{"thread": id, "n": n, "body": postBody(id*postsPerThread + n), "reply_to": n - 1}); err != nil {
						return nil, err
					}
				}
			}
			return nil, nil
		})
		if time.Since(last) > time.Minute {
			b.Logf("seeded %d of %d threads", t+9, threads)
			last = time.Now()
		}
	}
}

// pageTimes serves n GETs of the paths path() gives and reports the
// server time's median, 95th and 99th percentiles in milliseconds.
func pageTimes(b *testing.B, h http.Handler, path func(i int) string) {
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := path(i)
		req := httptest.NewRequest(http.MethodGet, "http://bench.example"+p, nil)
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", p, rec.Code, rec.Body.String())
		}
	}
	b.StopTimer()
	slices.Sort(times)
	q := func(f float64) float64 { return float64(times[int(f*float64(len(times)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkForumPages renders thread pages (a random page of a random
// thread, cold and warm) and issue pages of the seeded forum, in process,
// as a reader without an account sees them. Goal: p95 under 50 ms.
func BenchmarkForumPages(b *testing.B) {
	st, participants, threads := forumStore(b)
	h := web.New(web.Config{Store: st, Logger: quiet}).Handler()
	ctx := context.Background()
	issues, err := steward.ListIssues(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(participants), "participants")
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("thread", func(b *testing.B) {
		pageTimes(b, h, func(int) string {
			return fmt.Sprintf("/forum/threads/%d?page=%d", 1+rng.IntN(threads), 1+rng.IntN(postsPerThread/steward.PageSize))
		})
	})
	b.Run("issue", func(b *testing.B) {
		pageTimes(b, h, func(int) string { return "/forum/issues/" + issues[rng.IntN(len(issues))].ID })
	})
	b.Run("thread-api", func(b *testing.B) {
		pageTimes(b, h, func(int) string { return fmt.Sprintf("/api/v1/forum/threads/%d/posts", 1+rng.IntN(threads)) })
	})
}

// BenchmarkForumPostVisible measures, on the seeded forum, the time from
// a reply's commit starting to the reply appearing on its thread's page for
// a reader. Goal: under 1 s.
func BenchmarkForumPostVisible(b *testing.B) {
	st, participants, threads := forumStore(b)
	h := web.New(web.Config{Store: st, Logger: quiet}).Handler()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		tid := int64(1 + rng.IntN(threads))
		marker := fmt.Sprintf("visible-%d-%d", i, rng.Int())
		start := time.Now()
		v, err := st.Do(ctx, steward.Reply(fmt.Sprintf("p%06d", rng.IntN(participants)), tid, 0, "New post "+marker))
		if err != nil {
			b.Fatal(err)
		}
		n := v.(*steward.Post).N
		path := fmt.Sprintf("/forum/threads/%d?page=%d", tid, (n-1)/steward.PageSize+1)
		for {
			req := httptest.NewRequest(http.MethodGet, "http://bench.example"+path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if strings.Contains(rec.Body.String(), marker) {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("post %s not visible after 10 s", marker)
			}
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2])/1e6, "p50-ms-to-visible")
	b.ReportMetric(float64(times[len(times)-1])/1e6, "max-ms-to-visible")
}
