package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpMail is one message the test server accepted.
type smtpMail struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool
	AuthUser string
}

// smtpServer is a small in-process SMTP server: EHLO/HELO, optional STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT. It records what it accepts.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config // offer STARTTLS when set
	user     string      // require AUTH PLAIN with user/pass when set
	pass     string
	rcptCode int // answer RCPT with this code (e.g. 451, 550) when set

	mu    sync.Mutex
	mails []smtpMail
	wg    sync.WaitGroup
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...)
}

func (s *smtpServer) serve(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a safety net, not synchronization
	tp := textproto.NewConn(conn)
	isTLS, authed := false, ""
	var cur smtpMail
	reply := func(format string, a ...any) bool { return tp.PrintfLine(format, a...) == nil }
	if !reply("220 test.local ESMTP ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"test.local greets " + arg, "8BITMIME"}
			if s.tls != nil && !isTLS {
				lines = append(lines, "STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "AUTH PLAIN")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250%s%s", sep, l)
			}
		case "STARTTLS":
			if s.tls == nil || isTLS {
				reply("502 not now")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, isTLS, cur = tc, true, smtpMail{}
			tp = textproto.NewConn(tc)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 unsupported")
				continue
			}
			if initial == "" {
				reply("334 ")
				if initial, err = tp.ReadLine(); err != nil {
					return
				}
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			authed = parts[1]
			reply("235 2.7.0 ok")
		case "MAIL":
			if s.user != "" && authed == "" {
				reply("530 5.7.0 authentication required")
				continue
			}
			cur = smtpMail{From: angle(arg), TLS: isTLS, AuthUser: authed}
			reply("250 ok")
		case "RCPT":
			if s.rcptCode != 0 {
				reply("%d no thanks", s.rcptCode)
				continue
			}
			cur.To = append(cur.To, angle(arg))
			reply("250 ok")
		case "DATA":
			reply("354 end with .")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.Data = data
			s.mu.Lock()
			s.mails = append(s.mails, cur)
			s.mu.Unlock()
			cur = smtpMail{}
			reply("250 queued")
		case "RSET":
			cur = smtpMail{}
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

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func emailNotifier(s *smtpServer, c SMTPConfig) *Notifier {
	c.Host, c.Port = "127.0.0.1", s.port()
	if c.From == "" {
		c.From = "Firebreak <firebreak@example.com>"
	}
	c.DialTimeout, c.SessionTimeout = 2*time.Second, 5*time.Second
	return New(Config{SMTP: c, Now: func() time.Time { return t0 }})
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header mail.Header
	Text   string
	HTML   string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	p := parsedMail{Header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.Text = string(b)
		case "text/html; charset=utf-8":
			p.HTML = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("missing part: text %d bytes, html %d bytes", len(p.Text), len(p.HTML))
	}
	return p
}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	s := startSMTP(t, &smtpServer{tls: serverTLS, user: "fb", pass: "s3cret"})
	n := emailNotifier(s, SMTPConfig{TLS: TLSRequire, Username: "fb", Password: "s3cret",
		TLSConfig: &tls.Config{RootCAs: pool}})
	m := testMessage()
	m.Incident.Title = "Zahlungsdienst überlastet <script>alert(1)</script>"
	m.Text = "Line one.\n.\nA line that is only a dot, above, must survive dot-stuffing."
	d := Destination{Kind: DestEmail, Address: "On-call <oncall@example.com>, sre@example.com"}
	if err := n.Send(context.Background(), d, m); err != nil {
		t.Fatal(err)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("%d mails", len(got))
	}
	rec := got[0]
	if !rec.TLS || rec.AuthUser != "fb" || rec.From != "firebreak@example.com" ||
		strings.Join(rec.To, ",") != "oncall@example.com,sre@example.com" {
		t.Errorf("envelope %+v", rec)
	}
	p := parseMail(t, rec.Data)
	rawSubject := p.Header.Get("Subject")
	if !strings.HasPrefix(rawSubject, "=?utf-8?q?") {
		t.Errorf("subject not Q-encoded: %q", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != "INC-42 declared (SEV1): "+m.Incident.Title {
		t.Errorf("subject %q %v", subject, err)
	}
	if want := MessageID(m.ID, "firebreak@example.com"); p.Header.Get("Message-ID") != want ||
		want != "<msg-0193a1b2-7c4d@example.com>" {
		t.Errorf("Message-ID %q, want %q", p.Header.Get("Message-ID"), want)
	}
	if p.Header.Get("Auto-Submitted") != "auto-generated" || p.Header.Get("X-Firebreak-Event") != "declared" {
		t.Errorf("headers %v", p.Header)
	}
	if strings.Contains(p.HTML, "<script>") || !strings.Contains(p.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("HTML part does not escape the title:\n%s", p.HTML)
	}
	if !strings.Contains(p.HTML, `href="https://firebreak.example.com/incidents/INC-42"`) {
		t.Errorf("HTML lacks the incident link:\n%s", p.HTML)
	}
	if !strings.Contains(p.Text, "<script>alert(1)</script>") || !strings.Contains(p.Text, "\n.\nA line") ||
		!strings.Contains(p.Text, "Open the incident: https://firebreak.example.com/incidents/INC-42") {
		t.Errorf("text part:\n%q", p.Text)
	}
}

func TestEmailRetryKeepsMessageID(t *testing.T) {
	s := startSMTP(t, &smtpServer{})
	n := emailNotifier(s, SMTPConfig{TLS: TLSOpportunistic}) // no STARTTLS offered: plain is fine here
	d := Destination{Kind: DestEmail, Address: "oncall@example.com"}
	m := testMessage()
	m.ID = "id with spaces/and:colons"
	for range 2 {
		if err := n.Sender(DestEmail).Send(context.Background(), d, m); err != nil {
			t.Fatal(err)
		}
	}
	got := s.received()
	if len(got) != 2 {
		t.Fatalf("%d mails", len(got))
	}
	a, b := parseMail(t, got[0].Data), parseMail(t, got[1].Data)
	id := a.Header.Get("Message-ID")
	if id == "" || id != b.Header.Get("Message-ID") || strings.ContainsAny(id, " /:") || got[0].TLS {
		t.Errorf("Message-IDs %q %q", id, b.Header.Get("Message-ID"))
	}
}

func TestEmailTLSRequiredButNotOffered(t *testing.T) {
	s := startSMTP(t, &smtpServer{})
	a := emailNotifier(s, SMTPConfig{TLS: TLSRequire}).Deliver(context.Background(),
		Destination{Kind: DestEmail, Address: "oncall@example.com"}, testMessage())
	if a.OK || a.Retryable || !strings.Contains(a.Error, "STARTTLS") || len(s.received()) != 0 {
		t.Errorf("%+v", a)
	}
}

func TestEmailReplyCodes(t *testing.T) {
	for _, tc := range []struct {
		code      int
		retryable bool
	}{{451, true}, {452, true}, {550, false}, {553, false}} {
		s := startSMTP(t, &smtpServer{rcptCode: tc.code})
		a := emailNotifier(s, SMTPConfig{}).Deliver(context.Background(),
			Destination{Kind: DestEmail, Address: "oncall@example.com"}, testMessage())
		if a.OK || a.Retryable != tc.retryable || a.StatusCode != tc.code ||
			!strings.Contains(a.Error, strconv.Itoa(tc.code)) {
			t.Errorf("%d: %+v", tc.code, a)
		}
	}
}

func TestEmailBadPasswordIsPermanent(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	s := startSMTP(t, &smtpServer{tls: serverTLS, user: "fb", pass: "right"})
	a := emailNotifier(s, SMTPConfig{Username: "fb", Password: "wrong", TLSConfig: &tls.Config{RootCAs: pool}}).
		Deliver(context.Background(), Destination{Kind: DestEmail, Address: "oncall@example.com"}, testMessage())
	if a.OK || a.Retryable || a.StatusCode != 535 {
		t.Errorf("%+v", a)
	}
}

func TestEmailUntrustedCertificateIsPermanent(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	s := startSMTP(t, &smtpServer{tls: serverTLS})
	a := emailNotifier(s, SMTPConfig{TLS: TLSRequire}).Deliver(context.Background(),
		Destination{Kind: DestEmail, Address: "oncall@example.com"}, testMessage())
	if a.OK || a.Retryable || len(s.received()) != 0 {
		t.Errorf("%+v", a)
	}
}

func TestEmailSessionTimeout(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c) // returns when the client gives up and closes
		c.Close()
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	n := New(Config{SMTP: SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		From: "fb@example.com", SessionTimeout: 150 * time.Millisecond}})
	a := n.Deliver(context.Background(), Destination{Kind: DestEmail, Address: "oncall@example.com"}, testMessage())
	if a.OK || !a.Retryable {
		t.Errorf("%+v", a)
	}
}
