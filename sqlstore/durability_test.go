package sqlstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

const crashDirEnv = "FIREBREAK_SQLSTORE_CRASH_DIR"

// TestCrashRecoverySQLite kills (SIGKILL) a process that is appending notes from many goroutines and checks
// that every append it answered is in the database when it is opened again: a write is answered only after its
// COMMIT. (A process kill, not a power cut; synchronous=FULL is what covers the latter.)
func TestCrashRecoverySQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var incident string
	acked := map[int64]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "incident":
			incident = f[1]
		case len(f) == 2 && f[0] == "ack":
			id, _ := strconv.ParseInt(f[1], 10, 64)
			acked[id] = true
			if len(acked) == 400 && !killed {
				killed = true
				_ = cmd.Process.Kill()
			}
		}
	}
	_ = cmd.Wait()
	if !killed || incident == "" {
		t.Fatalf("child ended before it was killed (%d acks)", len(acked))
	}
	s := openStore(t, sqlstore.Options{DataDir: dir})
	stored := map[int64]bool{}
	for _, e := range timeline(t, s, incident) {
		stored[e.ID] = true
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("acknowledged event %d lost in the crash", id)
		}
	}
	t.Logf("%d acknowledged, %d stored (writes in flight when killed may be stored unacknowledged)", len(acked),
		len(stored)-1)
	// The database is usable after recovery.
	must(s.AddTimelineEvent(alice, incident, firebreak.TimelineInput{Message: "after crash"}))
}

// TestCrashChild is the process TestCrashRecoverySQLite kills.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashRecoverySQLite")
	}
	s, err := sqlstore.Open(context.Background(), sqlstore.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "crash", Severity: firebreak.SEV1}))
	var mu sync.Mutex
	fmt.Printf("incident %s\n", inc.ID)
	for range 16 {
		go func() {
			for {
				ev, err := s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "before the crash"})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Printf("ack %d\n", ev.ID) // os.Stdout is unbuffered: the line leaves before the next write
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute)
	os.Exit(2) // not killed: the parent reports it
}

// TestReopen checks that everything answered is there after Close and Open (SQLite file and PostgreSQL).
func TestReopen(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			defer recoverMust(t)
			ctx := context.Background()
			o := sqltest.Options(t, d)
			s := openStore(t, o)
			service(t, s, "api", "core")
			inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "persist", Severity: firebreak.SEV2,
				Services: []string{"api"}, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))
			inc = must(s.ChangeStatus(alice, inc.ID, firebreak.StatusMitigating, "", 0))
			must(s.PostUpdate(alice, inc.ID, firebreak.UpdateInput{Message: "u"}))
			must(s.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "a"}))
			must(s.CreateUser(ctx, firebreak.UserInput{Username: "bob", Password: "password1"}))
			tok := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "t"}))
			evs := timeline(t, s, inc.ID)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "late"}); err == nil ||
				!strings.Contains(err.Error(), "closed") {
				t.Fatalf("write after close: %v", err)
			}
			if _, err := s.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "", 0); !errors.Is(err, sqlstore.ErrClosed) {
				t.Fatalf("write after close: %v", err)
			}
			s = openStore(t, o)
			assertSameIncident(t, must(s.GetIncident(ctx, inc.Reference)), inc)
			if got := timeline(t, s, inc.ID); len(got) != len(evs) || got[len(got)-1].ID != evs[len(evs)-1].ID {
				t.Fatalf("timeline after reopen: %d events, want %d", len(got), len(evs))
			}
			if l := must(s.ListUpdates(ctx, inc.ID)); len(l) != 1 {
				t.Fatal("update lost")
			}
			if l := must(s.ListActionItems(ctx, inc.ID)); len(l) != 1 {
				t.Fatal("action item lost")
			}
			must(s.AuthenticatePassword(ctx, "bob", "password1"))
			must(s.AuthenticateToken(ctx, tok.Secret))
		})
	}
}

// closeWhileWriting runs write(w, 0), write(w, 1), … on 32 goroutines (w their number) until a call fails, closes
// the store after d, and waits for the goroutines: every write is answered after Close (none hangs), and a write
// that fails fails because the store closed.
func closeWhileWriting(t *testing.T, s *sqlstore.Store, d time.Duration, write func(w, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if err := write(w, i); err != nil {
					if !errors.Is(err, sqlstore.ErrClosed) && !strings.Contains(err.Error(), "closed") {
						t.Errorf("write during close: %v", err)
					}
					return
				}
			}
		})
	}
	time.Sleep(d)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writes still blocked after Close")
	}
}

// TestCloseDrains closes the store while 32 goroutines write: every write is answered (no hang), every answered
// write is stored, and every refused one (ErrClosed) is not.
func TestCloseDrains(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			defer recoverMust(t)
			o := sqltest.Options(t, d)
			s := openStore(t, o)
			inc := declare(t, s, "closing", firebreak.SEV1)
			var mu sync.Mutex
			acked := 0
			closeWhileWriting(t, s, 200*time.Millisecond, func(int, int) error {
				_, err := s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "x"})
				if err == nil {
					mu.Lock()
					acked++
					mu.Unlock()
				}
				return err
			})
			s = openStore(t, o)
			notes := 0
			for _, e := range timeline(t, s, inc.ID) {
				if e.Kind == firebreak.EventNote {
					notes++
				}
			}
			if d == "sqlite" && notes != acked {
				t.Fatalf("%d notes stored, %d acknowledged", notes, acked)
			}
			if notes < acked {
				t.Fatalf("%d notes stored, %d acknowledged", notes, acked)
			}
		})
	}
}

// TestCloseDrainsIngest closes the store while 32 goroutines deliver alerts, which merge (SQLite: in the writer's
// batches; PostgreSQL: in the batches of concurrent deliveries): every delivery is answered, and every answered
// one is stored.
func TestCloseDrainsIngest(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			defer recoverMust(t)
			ctx := context.Background()
			o := sqltest.Options(t, d)
			s := openStore(t, o)
			service(t, s, "api", "payments")
			g := integration(t, s, "api", firebreak.IntegrationPagerDuty)
			var mu sync.Mutex
			var acked []string
			closeWhileWriting(t, s, 300*time.Millisecond, func(w, i int) error {
				key := fmt.Sprintf("w%d-%d", w, i)
				_, err := s.IngestAlerts(ctx, g.ID, []firebreak.AlertEvent{trigger(key, "disk full")})
				if err == nil {
					mu.Lock()
					acked = append(acked, key)
					mu.Unlock()
				}
				return err
			})
			if len(acked) < 32 {
				t.Fatalf("only %d deliveries answered before Close", len(acked))
			}
			s = openStore(t, o)
			stored := map[string]bool{}
			for _, a := range allAlerts(t, s) {
				stored[a.DedupKey] = true
			}
			for _, k := range acked {
				if !stored[k] {
					t.Fatalf("delivery %s was answered but is not stored (%d answered, %d stored)", k, len(acked), len(stored))
				}
			}
		})
	}
}

// TestWriterBatches checks the group commit: concurrent writes share transactions, and a write that fails
// halfway through is rolled back to its savepoint without touching the others in its batch.
func TestWriterBatches(t *testing.T) {
	s := sqltest.Open(t, "sqlite")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 400)
	for i := range errs {
		wg.Go(func() {
			errs[i] = sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
				if err := exec(`INSERT INTO counters (name, value) VALUES (?, ?)`, fmt.Sprint("k", i), i); err != nil {
					return err
				}
				if i%3 == 0 { // a duplicate key: this write fails after its first statement succeeded
					return exec(`INSERT INTO counters (name, value) VALUES (?, ?)`, fmt.Sprint("k", i), i)
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%3 == 0) != (err != nil) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM counters WHERE name LIKE 'k%'`))
	if want := int64(len(errs) - (len(errs)+2)/3); n != want {
		t.Fatalf("%d rows, want %d", n, want)
	}
	for i := range errs {
		k := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM counters WHERE name = ?`, fmt.Sprint("k", i)))
		if (k == 1) != (i%3 != 0) {
			t.Fatalf("row k%d: %d", i, k)
		}
	}
	batches, writes := sqlstore.WriterStats(s)
	t.Logf("%d writes in %d transactions", writes, batches)
	if batches >= writes {
		t.Errorf("no write shared a transaction (%d writes, %d batches)", writes, batches)
	}

	// A caller that gives up before its write starts gets its context's error and writes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := sqlstore.WriteFunc(cctx, s, func(exec func(string, ...any) error) error {
		return exec(`INSERT INTO counters (name, value) VALUES ('cancelled', 1)`)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	if k := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM counters WHERE name = 'cancelled'`)); k != 0 {
		t.Fatal("cancelled write was written")
	}
	// A panicking write fails alone.
	err = sqlstore.WriteFunc(ctx, s, func(func(string, ...any) error) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic: %v", err)
	}
	must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "still works", Severity: firebreak.SEV3}))
}

// TestSQLiteDurabilitySettings checks the pragmas a durable write depends on.
func TestSQLiteDurabilitySettings(t *testing.T) {
	s := sqltest.Open(t, "sqlite")
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
		"temp_store": "2"} {
		got, err := sqlstore.WriterPragma(context.Background(), s, name)
		if err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", name, got, err, want)
		}
	}
}

// TestSQLiteURLs covers the ways to name a SQLite database.
func TestSQLiteURLs(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"sqlite://" + dir + "/a.db", "file:" + dir + "/b.db", "file://" + dir + "/c.db?x=1",
		"sqlite://" + dir + "/with space.db"} {
		s, err := sqlstore.Open(context.Background(), sqlstore.Options{DatabaseURL: u})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if err := s.Ping(context.Background()); err != nil || s.Dialect() != "sqlite" {
			t.Fatalf("%s: %v %s", u, err, s.Dialect())
		}
		_ = s.Close()
	}
	for _, name := range []string{"a.db", "b.db", "c.db", "with space.db", "a.db-wal"} {
		if _, err := os.Stat(dir + "/" + name); err != nil && name != "a.db-wal" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, bad := range []string{"mysql://x", "sqlite://", "file::memory:"} {
		if _, err := sqlstore.Open(context.Background(), sqlstore.Options{DatabaseURL: bad}); err == nil {
			t.Fatalf("%s accepted", bad)
		}
	}
	if _, err := sqlstore.Open(context.Background(), sqlstore.Options{}); err == nil {
		t.Fatal("no DataDir or URL accepted")
	}
	sub := dir + "/new/data"
	s := openStore(t, sqlstore.Options{DataDir: sub})
	for _, f := range []string{"firebreak.db", "firebreak.db-wal"} {
		if fi, err := os.Stat(sub + "/" + f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, fi.Mode())
		}
	}
	if fi, _ := os.Stat(sub); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v", fi.Mode())
	}
	_ = s
}
