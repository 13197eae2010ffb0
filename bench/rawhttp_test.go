package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load generator's own HTTP/1.1 client sends what net/http's would (method, path with query, Host,
// Content-Type, the body), keeps one connection per client, reports a status other than the one expected with
// the answer's text, and dials again when the server closes the connection.
func TestRawClientsPost(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Host+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
		switch string(body) {
		case `{"bad":true}`:
			http.Error(w, "Invalid routing key", http.StatusBadRequest)
		case `{"close":true}`:
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"status":"success"}`)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	rc := newRawClients(5 * time.Second)
	defer rc.closeAll()
	ctx := context.Background()
	post := func(w int, body string, want int) error {
		t.Helper()
		ok, err := rc.post(ctx, w, srv.URL+"/v2/enqueue?x=1", []byte(body), want)
		if !ok {
			t.Fatal("a plain http:// URL did not take the raw path")
		}
		return err
	}
	for i := range 3 {
		if err := post(0, `{"n":1}`, http.StatusAccepted); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("3 posts of one client used %d connections, want 1", n)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if want := "POST /v2/enqueue?x=1 " + host + ` application/json {"n":1}`; got[0] != want {
		t.Fatalf("server saw %q, want %q", got[0], want)
	}
	err := post(0, `{"bad":true}`, http.StatusAccepted)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "Invalid routing key") {
		t.Fatalf("a 400 answered %v", err)
	}
	if err := post(0, `{"n":3}`, http.StatusAccepted); err != nil {
		t.Fatalf("after an unexpected status: %v", err)
	}
	if err := post(1, `{"close":true}`, http.StatusAccepted); err != nil {
		t.Fatal(err)
	}
	if err := post(1, `{"n":2}`, http.StatusAccepted); err != nil {
		t.Fatalf("after the server closed the connection: %v", err)
	}
	if n := conns.Load(); n != 4 {
		// client 0: one, then another after the 400 (an error drops the connection); client 1: one, and one
		// after the server's Connection: close.
		t.Fatalf("%d connections, want 4", n)
	}
	if ok, _ := rc.post(ctx, 0, "https://127.0.0.1:1/v2/enqueue", nil, 202); ok {
		t.Fatal("an https:// URL took the raw path")
	}
}
