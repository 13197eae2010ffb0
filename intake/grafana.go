package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// GrafanaSignatureHeader is the default header of Grafana's optional webhook
// HMAC signature (hmacConfig.header). Grafana has no default timestamp
// header: it is sent only when hmacConfig.timestampHeader is configured.
const GrafanaSignatureHeader = "X-Grafana-Alerting-Signature"

// ErrBadSignature is returned by VerifyGrafanaSignature when the signature
// is missing, malformed, or does not match.
var ErrBadSignature = errors.New("intake: grafana: signature does not match")

// ParseGrafana parses a Grafana Alerting (unified alerting) webhook body,
// version "1", into one Event per alert. The shape is Alertmanager's webhook
// with Grafana's extras, and the rules are those of ParseAlertmanagerV4
// except that version must be "1". In addition, silenceURL, dashboardURL
// and panelURL become Links ("Silence", "Dashboard", "Panel"), imageURL an
// Image, and values / valueString are kept. The deprecated top-level title,
// state and message are ignored, as are unknown keys.
func ParseGrafana(body []byte) ([]Event, error) {
	return parseAMShape(body, FormatGrafana, "1")
}

// GrafanaSignature computes Grafana's webhook signature: the lowercase hex
// HMAC-SHA256, keyed with secret, of timestamp + ":" + body when timestamp
// is non-empty (a timestamp header is configured), otherwise of body alone.
func GrafanaSignature(secret, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, secret)
	if timestamp != "" {
		m.Write([]byte(timestamp))
		m.Write([]byte{':'})
	}
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyGrafanaSignature checks the value of the signature header
// (GrafanaSignatureHeader unless configured otherwise) against body. Pass
// the value of the configured timestamp header as timestamp, or "" when no
// timestamp header is configured. Hex case is ignored; the comparison is
// constant-time. It does not judge the timestamp's age: Grafana's timestamp
// format is not pinned down here, so replay windows are the caller's policy.
func VerifyGrafanaSignature(secret, body []byte, timestamp, signature string) error {
	if len(secret) == 0 {
		return errors.New("intake: grafana: empty HMAC secret")
	}
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, secret)
	if timestamp != "" {
		m.Write([]byte(timestamp))
		m.Write([]byte{':'})
	}
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}
