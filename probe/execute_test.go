package probe

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func httpProbe(url string, conds ...string) *firebreak.Probe {
	return &firebreak.Probe{ID: "p1", Kind: firebreak.ProbeHTTP, URL: url, Method: "GET",
		Timeout: firebreak.Duration(5 * time.Second), Conditions: conds}
}

func TestHTTPProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"UP","checks":[{"name":"db","ok":true}]}`)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%s|%s", r.Method, r.Header.Get("X-Token"), b, r.Header.Get("User-Agent"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("a", 64<<10))
		for range 32 { // 2 MiB
			w.Write(chunk)
		}
	})
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "arrived")
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewChecker()
	defer c.Close()
	ctx := context.Background()

	t.Run("json conditions hold", func(t *testing.T) {
		res := c.Execute(ctx, httpProbe(srv.URL+"/health", "[STATUS] == 200", "[BODY].status == UP",
			"len([BODY].checks) == 1", "[BODY].checks[0].ok == true", "[RESPONSE_TIME] < 5000"))
		if !res.Success || res.Error != "" || len(res.FailedConditions) > 0 {
			t.Fatalf("%+v", res)
		}
		if res.StatusCode != 200 || res.LatencyMS <= 0 || res.CertExpiresAt != nil {
			t.Errorf("%+v", res)
		}
	})
	t.Run("failed conditions are described", func(t *testing.T) {
		res := c.Execute(ctx, httpProbe(srv.URL+"/down", "[STATUS] == 200", "[BODY] == pat(*maint*)", "[BODY] == ok"))
		if res.Success || res.Error != "" {
			t.Fatalf("%+v", res)
		}
		want := []string{"[STATUS] (503) == 200", "[BODY] (maintenance\n) == ok"}
		if strings.Join(res.FailedConditions, ";") != strings.Join(want, ";") {
			t.Errorf("failed = %q, want %q", res.FailedConditions, want)
		}
	})
	t.Run("default condition", func(t *testing.T) {
		if res := c.Execute(ctx, httpProbe(srv.URL+"/health")); !res.Success {
			t.Errorf("%+v", res)
		}
		res := c.Execute(ctx, httpProbe(srv.URL+"/down"))
		if res.Success || len(res.FailedConditions) != 1 || res.FailedConditions[0] != "[STATUS] (503) < 400" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("method headers and body are sent", func(t *testing.T) {
		p := httpProbe(srv.URL+"/echo", "[BODY] == POST|secret|ping|"+UserAgent)
		p.Method, p.Body, p.Headers = "POST", "ping", map[string]string{"X-Token": "secret"}
		if res := c.Execute(ctx, p); !res.Success {
			t.Errorf("%+v", res)
		}
		p.Headers["User-Agent"] = "custom"
		p.Conditions = []string{"[BODY] == pat(*|custom)"}
		if res := c.Execute(ctx, p); !res.Success {
			t.Errorf("custom user agent: %+v", res)
		}
	})
	t.Run("body read only when needed and capped", func(t *testing.T) {
		u := mustURL(t, srv.URL+"/big")
		var o Observation
		if err := c.http(ctx, httpProbe(u.String()), u, false, &o); err != nil || o.Body != nil || o.Status != 200 {
			t.Fatalf("no body needed: err %v, %d bytes", err, len(o.Body))
		}
		res := c.Execute(ctx, httpProbe(srv.URL+"/big", "len([BODY]) == "+strconv.Itoa(MaxBody)))
		if !res.Success {
			t.Errorf("%+v", res)
		}
	})
	t.Run("redirects", func(t *testing.T) {
		if res := c.Execute(ctx, httpProbe(srv.URL+"/hop/10", "[BODY] == arrived")); !res.Success {
			t.Errorf("10 redirects: %+v", res)
		}
		res := c.Execute(ctx, httpProbe(srv.URL+"/hop/11"))
		if res.Success || res.Error != "stopped after 10 redirects" {
			t.Errorf("11 redirects: %+v", res)
		}
		if res := c.Execute(ctx, httpProbe(srv.URL+"/loop")); res.Success || res.Error != "stopped after 10 redirects" {
			t.Errorf("loop: %+v", res)
		}
	})
	t.Run("invalid condition", func(t *testing.T) {
		res := c.Execute(ctx, httpProbe(srv.URL+"/health", "[NOPE] == 1"))
		if res.Success || !strings.Contains(res.Error, "invalid condition") {
			t.Errorf("%+v", res)
		}
	})
	t.Run("package Execute without a checker", func(t *testing.T) {
		if res := Execute(ctx, httpProbe(srv.URL+"/health"), nil); !res.Success {
			t.Errorf("%+v", res)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHTTPSProbe(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	notAfter := srv.Certificate().NotAfter
	c := NewChecker()
	defer c.Close()
	ctx := context.Background()

	res := c.Execute(ctx, httpProbe(srv.URL))
	if res.Success || res.Error != "x509: certificate signed by unknown authority" {
		t.Errorf("untrusted certificate: %+v", res)
	}

	p := httpProbe(srv.URL, "[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 48h")
	p.InsecureSkipVerify = true
	res = c.Execute(ctx, p)
	if !res.Success {
		t.Fatalf("%+v", res)
	}
	if res.CertExpiresAt == nil || !res.CertExpiresAt.Equal(notAfter) {
		t.Errorf("CertExpiresAt = %v, want %v", res.CertExpiresAt, notAfter)
	}
	// A certificate expiring sooner than required fails with the time left.
	p.Conditions = []string{fmt.Sprintf("[CERTIFICATE_EXPIRATION] > %dh", int(time.Until(notAfter).Hours())+48)}
	res = c.Execute(ctx, p)
	if res.Success || len(res.FailedConditions) != 1 || !strings.HasPrefix(res.FailedConditions[0], "[CERTIFICATE_EXPIRATION] (") {
		t.Errorf("%+v", res)
	}
	// Plain HTTP has no certificate.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	res = c.Execute(ctx, httpProbe(plain.URL, "[CERTIFICATE_EXPIRATION] > 48h"))
	if res.Success || res.FailedConditions[0] != "[CERTIFICATE_EXPIRATION] (no certificate) > 48h" {
		t.Errorf("%+v", res)
	}
}

func TestTCPProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	c := NewChecker()
	tcp := func(addr string, conds ...string) *firebreak.Probe {
		return &firebreak.Probe{ID: "t", Kind: firebreak.ProbeTCP, URL: "tcp://" + addr, Timeout: firebreak.Duration(2 * time.Second), Conditions: conds}
	}
	res := c.Execute(context.Background(), tcp(ln.Addr().String()))
	if !res.Success || res.Error != "" || res.StatusCode != 0 {
		t.Fatalf("open port: %+v", res)
	}
	<-accepted

	closedAddr := ln.Addr().String()
	ln.Close()
	res = c.Execute(context.Background(), tcp(closedAddr))
	if res.Success || res.Error != "connection refused" || len(res.FailedConditions) != 1 || res.FailedConditions[0] != "[CONNECTED] (false) == true" {
		t.Errorf("closed port: %+v", res)
	}
	// A probe may require a port to be closed.
	res = c.Execute(context.Background(), tcp(closedAddr, "[CONNECTED] == false"))
	if !res.Success || res.Error != "connection refused" {
		t.Errorf("closed port required: %+v", res)
	}
}

func TestProbeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := httpProbe(srv.URL)
	p.Timeout = firebreak.Duration(200 * time.Millisecond)
	res := NewChecker().Execute(context.Background(), p)
	if res.Success || res.Error != "timeout after 200ms" || len(res.FailedConditions) != 0 {
		t.Errorf("%+v", res)
	}

	// A canceled parent is not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = NewChecker().Execute(ctx, p)
	if res.Success || res.Error != "canceled" {
		t.Errorf("canceled: %+v", res)
	}
}

func TestDescribeErrors(t *testing.T) {
	c := NewChecker()
	res := c.Execute(context.Background(), httpProbe("http://nonexistent.invalid/"))
	if res.Success || !strings.Contains(res.Error, "nonexistent.invalid") || len(res.Error) > 100 {
		t.Errorf("unknown host: %+v", res)
	}
	// A TLS probe of a plain-HTTP server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res = c.Execute(context.Background(), httpProbe(strings.Replace(srv.URL, "http://", "https://", 1)))
	if res.Success || !strings.Contains(res.Error, "HTTP") || len(res.Error) > 100 {
		t.Errorf("tls to http: %+v", res)
	}
}
