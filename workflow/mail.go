package workflow

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Mailer sends plain-text e-mail through an SMTP server.
type Mailer struct {
	Addr string // host:port of the SMTP server
	From string // the sender address
	// Username and Password, if set, authenticate with PLAIN, which
	// net/smtp allows only over TLS or to localhost.
	Username, Password string
	Now                func() time.Time
}

// NewMailer checks the configuration and returns a mailer.
func NewMailer(addr, from, user, pass string) (*Mailer, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("SMTP server %q: want host:port", addr)
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("sender %q: %v", from, err)
	}
	return &Mailer{Addr: addr, From: from, Username: user, Password: pass, Now: time.Now}, nil
}

// Send sends one message.
func (m *Mailer) Send(to, subject, body string) error {
	if _, err := mail.ParseAddress(to); err != nil {
		return fmt.Errorf("recipient %q: %v", to, err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		return fmt.Errorf("subject contains a line break")
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	host := "steward.invalid"
	if at := strings.LastIndexByte(m.From, '@'); at >= 0 {
		host = strings.Trim(m.From[at+1:], "> ")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", m.From)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", m.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))
	var auth smtp.Auth
	if m.Username != "" {
		h, _, _ := net.SplitHostPort(m.Addr)
		auth = smtp.PlainAuth("", m.Username, m.Password, h)
	}
	sender, _ := mail.ParseAddress(m.From)
	return smtp.SendMail(m.Addr, auth, sender.Address, []string{to}, b.Bytes())
}
