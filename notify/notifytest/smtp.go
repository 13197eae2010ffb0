// Package notifytest holds real local receivers for tests of the notification path: an in-process SMTP server
// that records the mail it accepts. (The webhook side needs nothing beyond net/http/httptest.)
package notifytest

import (
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message the server accepted.
type Mail struct {
	From    string
	To      []string
	Subject string
	Data    []byte // the message as sent (headers and body)
}

// SMTPServer is a small SMTP server on 127.0.0.1 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no
// AUTH: configure the sender with TLS off). It records every message it accepts.
type SMTPServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	mail []Mail
	got  chan Mail
}

// StartSMTP starts a server closed when the test ends. Every accepted message is also sent on Got (buffered;
// messages beyond its capacity are only recorded).
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{ln: ln, got: make(chan Mail, 1024)}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() {
				defer c.Close()
				s.serve(c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// Port is the port the server listens on (host 127.0.0.1).
func (s *SMTPServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Got receives each accepted message.
func (s *SMTPServer) Got() <-chan Mail { return s.got }

// Received returns every message accepted so far.
func (s *SMTPServer) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// To returns the messages accepted for the recipient address.
func (s *SMTPServer) To(addr string) []Mail {
	var out []Mail
	for _, m := range s.Received() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func (s *SMTPServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety net, not synchronization
	tp := textproto.NewConn(conn)
	reply := func(format string, a ...any) bool { return tp.PrintfLine(format, a...) == nil }
	if !reply("220 notifytest ESMTP ready") {
		return
	}
	var cur Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-notifytest greets %s", arg)
			reply("250 8BITMIME")
		case "HELO":
			reply("250 notifytest")
		case "MAIL":
			cur = Mail{From: angle(arg)}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, angle(arg))
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = data
			if m, err := mail.ReadMessage(strings.NewReader(string(data))); err == nil {
				cur.Subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			}
			s.mu.Lock()
			s.mail = append(s.mail, cur)
			s.mu.Unlock()
			select {
			case s.got <- cur:
			default:
			}
			cur = Mail{}
			reply("250 queued")
		case "RSET":
			cur = Mail{}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// angle returns the address between < and > in "FROM:<a@b> BODY=8BITMIME".
func angle(s string) string {
	_, rest, _ := strings.Cut(s, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}
