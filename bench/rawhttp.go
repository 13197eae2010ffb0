package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rawClients send the intake scenarios' POSTs over one kept-alive HTTP/1.1 connection per load-generating
// client, written and read in the client's own goroutine. net/http's Transport hands every request to two
// goroutines of its connection (a writer and a reader) and back: in a PagerDuty run against an in-process server,
// whose CPUs the load generator shares, that cost the generator about 45 µs per request, a fifth of all the
// process's CPU. The server side is unchanged (it is net/http either way); answers are parsed by
// http.ReadResponse. Only plain http:// URLs take this path; others go through the runner's http.Client.
type rawClients struct {
	timeout time.Duration
	mu      sync.Mutex
	conns   map[int]*rawConn // per client (w)
	targets sync.Map         // URL → *rawTarget
}

type rawTarget struct {
	addr, host, path string
}

type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	addr string
	buf  []byte
}

func newRawClients(timeout time.Duration) *rawClients {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &rawClients{timeout: timeout, conns: map[int]*rawConn{}}
}

// target parses u once; nil when it is not a plain http:// URL.
func (rc *rawClients) target(u string) *rawTarget {
	if t, ok := rc.targets.Load(u); ok {
		return t.(*rawTarget)
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.User != nil {
		rc.targets.Store(u, (*rawTarget)(nil))
		return nil
	}
	addr := p.Host
	if p.Port() == "" {
		addr = net.JoinHostPort(p.Hostname(), "80")
	}
	t := &rawTarget{addr: addr, host: p.Host, path: p.RequestURI()}
	rc.targets.Store(u, t)
	return t
}

// post sends body to u as client w and checks the status; ok is false when u cannot take this path.
func (rc *rawClients) post(ctx context.Context, w int, u string, body []byte, want int) (ok bool, err error) {
	t := rc.target(u)
	if t == nil {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	rc.mu.Lock()
	c := rc.conns[w]
	if c == nil {
		c = &rawConn{}
		rc.conns[w] = c
	}
	rc.mu.Unlock()
	if err := c.send(ctx, t, body, want, rc.timeout); err != nil {
		c.close()
		return true, err
	}
	return true, nil
}

func (c *rawConn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c, c.br = nil, nil
	}
}

func (c *rawConn) send(ctx context.Context, t *rawTarget, body []byte, want int, timeout time.Duration) error {
	if c.c != nil && c.addr != t.addr {
		c.close()
	}
	if c.c == nil {
		d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", t.addr)
		if err != nil {
			return err
		}
		c.c, c.br, c.addr = conn, bufio.NewReaderSize(conn, 4096), t.addr
	}
	if err := c.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	b := c.buf[:0]
	b = append(b, "POST "...)
	b = append(b, t.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, t.host...)
	b = append(b, "\r\nUser-Agent: firebreak-bench\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b
	if _, err := c.c.Write(b); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.Close {
		c.close()
	}
	return err
}

// closeAll closes every client's connection.
func (rc *rawClients) closeAll() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, c := range rc.conns {
		c.close()
	}
	clear(rc.conns)
}
