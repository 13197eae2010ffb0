package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	secret := []byte("whsec_test_0123456789")
	body := []byte(`{"version":1,"id":"x"}`)
	h := Sign(secret, t0, body)
	if !strings.HasPrefix(h, "t=1773480413,v1=") || len(h) != len("t=1773480413,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify(secret, h, body, t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Clock skew either way within the window is fine; outside it is a replay.
	if err := Verify(secret, h, body, t0.Add(-time.Minute), time.Minute); err != nil {
		t.Errorf("receiver clock behind: %v", err)
	}
	if err := Verify(secret, h, body, t0.Add(61*time.Second), time.Minute); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("replay: %v", err)
	}
	// Secret rotation: several v1 values, any may match; unknown schemes are ignored.
	other := Sign([]byte("old-secret-0123456789"), t0, body)
	_, oldV1, _ := strings.Cut(other, ",")
	rotated := h + "," + oldV1 + ",v0=deadbeef"
	if err := Verify(secret, rotated, body, t0, 0); err != nil {
		t.Errorf("rotated header: %v", err)
	}
	for _, bad := range []struct {
		header string
		want   error
	}{
		{"", ErrNoSignature},
		{"   ", ErrNoSignature},
		{"v1=" + strings.Repeat("ab", 32), ErrBadSignatureHeader},
		{"t=1773480413", ErrBadSignatureHeader},
		{"t=1773480413,v1=zz", ErrBadSignatureHeader},
		{"t=1773480413,v1=abcd", ErrBadSignatureHeader},
		{"t=abc,v1=" + strings.Repeat("ab", 32), ErrBadSignatureHeader},
		{"t=1,t=2,v1=" + strings.Repeat("ab", 32), ErrBadSignatureHeader},
		{"t=-5,v1=" + strings.Repeat("ab", 32), ErrBadSignatureHeader},
		{"garbage", ErrBadSignatureHeader},
		{"t=1773480413,v1=" + strings.Repeat("ab", 32), ErrSignatureMismatch},
	} {
		if err := Verify(secret, bad.header, body, t0, 0); !errors.Is(err, bad.want) {
			t.Errorf("Verify(%q) = %v, want %v", bad.header, err, bad.want)
		}
	}
}

// FuzzVerify: Verify must never panic, and must accept only what Sign produced for that body and secret.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789")
	body := []byte(`{"id":"x"}`)
	f.Add(Sign(secret, t0, body), body)
	f.Add("t=1773480413,v1="+strings.Repeat("0", 64), body)
	f.Add("t=,v1=", []byte{})
	f.Add("t=9223372036854775807,v1="+strings.Repeat("f", 64), body)
	f.Add(",,,=,=,t==1", body)
	f.Add("t=1773480413,v1="+strings.Repeat("ab", 32)+",v1=", body)
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := Verify(secret, header, b, t0, time.Minute)
		if err == nil {
			sig, perr := ParseSignature(header)
			if perr != nil {
				t.Fatalf("accepted an unparsable header %q", header)
			}
			// Accepted: one v1 must be the real MAC of this body at this timestamp.
			want := Sign(secret, time.Unix(sig.Timestamp, 0), b)
			_, wantV1, _ := strings.Cut(want, ",v1=")
			if !strings.Contains(strings.ToLower(header), wantV1) {
				t.Fatalf("accepted %q for body %q without its MAC", header, b)
			}
		}
	})
}
