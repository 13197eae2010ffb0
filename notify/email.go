package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how email uses TLS.
type TLSMode string

const (
	// TLSOpportunistic uses STARTTLS when the server offers it, plain text otherwise (the default).
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSRequire refuses to send unless STARTTLS succeeds.
	TLSRequire TLSMode = "require"
	// TLSImplicit connects with TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSOff never uses TLS.
	TLSOff TLSMode = "off"
)

// SMTPConfig configures email delivery.
type SMTPConfig struct {
	Host     string  // relay host name (also the TLS server name)
	Port     int     // default 587 (465 with TLSImplicit)
	Username string  // AUTH PLAIN when set
	Password string  //
	From     string  // RFC 5322 address, e.g. "Firebreak <firebreak@example.com>"
	TLS      TLSMode // default TLSOpportunistic
	// TLSConfig, if set, is cloned for STARTTLS / implicit TLS (tests use it for their own CA); ServerName
	// defaults to Host.
	TLSConfig *tls.Config
	// HeloName is sent in EHLO (default "localhost").
	HeloName string
	// DialTimeout bounds connecting (default 10 s); SessionTimeout bounds the whole conversation, from dial to
	// QUIT (default 60 s).
	DialTimeout    time.Duration
	SessionTimeout time.Duration
}

func (c *SMTPConfig) fill() {
	if c.TLS == "" {
		c.TLS = TLSOpportunistic
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == TLSImplicit {
			c.Port = 465
		}
	}
	if c.HeloName == "" {
		c.HeloName = "localhost"
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 60 * time.Second
	}
}

type emailSender struct{ cfg *Config }

func (s *emailSender) Send(ctx context.Context, d Destination, m Message) error {
	c := s.cfg.SMTP
	if c.Host == "" {
		return permanent(fmt.Errorf("%w: email: no SMTP host configured", ErrInvalidDestination))
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return permanent(fmt.Errorf("%w: email: SMTP from address: %v", ErrInvalidDestination, err))
	}
	to, err := parseRecipients(d.Address)
	if err != nil {
		return permanent(fmt.Errorf("%w: email: %v", ErrInvalidDestination, err))
	}
	msg, err := buildEmail(s.cfg.Templates, m, from, to, s.cfg.Now())
	if err != nil {
		return err
	}
	return sendSMTP(ctx, c, from.Address, to, msg)
}

// MessageID derives the email Message-ID from the message id, so every retry of one notification carries the
// same Message-ID and duplicates are detectable. Ids made only of atext characters are used as they are; others
// are hashed.
func MessageID(id, fromAddress string) string {
	domain := "firebreak.invalid"
	if _, d, ok := strings.Cut(fromAddress, "@"); ok && d != "" && isAtext(d) {
		domain = d
	}
	local := id
	if !isAtext(id) {
		sum := sha256.Sum256([]byte(id))
		local = hex.EncodeToString(sum[:16])
	}
	return "<" + local + "@" + domain + ">"
}

// isAtext reports whether s is a non-empty dot-atom of RFC 5322 atext (a safe subset).
func isAtext(s string) bool {
	if s == "" || len(s) > MaxIDLen || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.+=", r):
		default:
			return false
		}
	}
	return true
}

// buildEmail writes an RFC 5322 message: multipart/alternative with a quoted-printable text part and HTML part.
// Lines end in CRLF; net/smtp's DATA writer dot-stuffs.
func buildEmail(t *Templates, m Message, from *mail.Address, to []*mail.Address, now time.Time) ([]byte, error) {
	r, err := t.Render(m)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ ctype, content string }{
		{"text/plain; charset=utf-8", r.Text},
		{"text/html; charset=utf-8", r.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.content, "\n", "\r\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.String()
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from.String())
	hdr("To", strings.Join(rcpts, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", r.Headline))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", MessageID(m.ID, from.Address))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "multipart/alternative; boundary=\""+mw.Boundary()+"\"")
	hdr("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	hdr("X-Firebreak-Event", string(m.Kind))
	if m.Incident.Ref != "" && isAtext(m.Incident.Ref) {
		hdr("X-Firebreak-Incident", m.Incident.Ref)
	}
	b.WriteString("\r\n")
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// sendSMTP runs one SMTP session: dial (DialTimeout), TLS per mode, EHLO, AUTH PLAIN if configured, MAIL, RCPT,
// DATA, QUIT, all within SessionTimeout and the context.
func sendSMTP(ctx context.Context, c SMTPConfig, from string, to []*mail.Address, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.SessionTimeout)
	defer cancel()
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	tlsCfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		tlsCfg = c.TLSConfig.Clone()
		if tlsCfg.ServerName == "" {
			tlsCfg.ServerName = c.Host
		}
	}
	dialer := &net.Dialer{Timeout: c.DialTimeout}
	var conn net.Conn
	var err error
	if c.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return classifySMTP("dial", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // cancellation interrupts a blocked read
	defer stop()
	wrap := func(stage string, err error) error {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return classifySMTP(stage, err)
	}

	client, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return wrap("greeting", err)
	}
	defer client.Close()
	if err := client.Hello(c.HeloName); err != nil {
		return wrap("ehlo", err)
	}
	if c.TLS == TLSRequire || c.TLS == TLSOpportunistic {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsCfg); err != nil {
				return wrap("starttls", err)
			}
		} else if c.TLS == TLSRequire {
			return permanent(errors.New("smtp: TLS required but the server does not offer STARTTLS"))
		}
	}
	if c.Username != "" {
		// net/smtp's PlainAuth refuses to send the password over an unencrypted connection except to localhost.
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) {
				return wrap("auth", err)
			}
			return permanent(fmt.Errorf("smtp auth: %w", err))
		}
	}
	if err := client.Mail(from); err != nil {
		return wrap("mail", err)
	}
	for _, a := range to {
		if err := client.Rcpt(a.Address); err != nil {
			return wrap("rcpt", err)
		}
	}
	w, err := client.Data()
	if err != nil {
		return wrap("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return wrap("data", err)
	}
	if err := w.Close(); err != nil { // the server's answer to the message
		return wrap("data", err)
	}
	// The message is accepted; a failed QUIT does not undo that.
	_ = client.Quit()
	return nil
}
