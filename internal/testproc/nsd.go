package testproc

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// StartNSD runs one NSD (bin) on each of addrs at port, serving zones
// (name → zone file text), with extra server options, and waits until it
// answers for the first zone. It stops when the test ends.
func StartNSD(t testing.TB, bin string, port int, addrs []string, zones map[string]string, extra string) {
	t.Helper()
	dir := t.TempDir()
	server := NSDServer(dir, port)
	var ips strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&ips, "ip-address: %s@%d\n\t", a, port)
		if strings.Contains(a, ":") {
			server = strings.Replace(server, "do-ip6: no", "do-ip6: yes", 1)
		}
	}
	server = strings.Replace(server, fmt.Sprintf("ip-address: 127.0.0.1@%d\n\t", port), ips.String(), 1)
	var conf strings.Builder
	conf.WriteString(server + extra + "remote-control:\n\tcontrol-enable: no\n")
	names := slices.Sorted(maps.Keys(zones))
	for i, z := range names {
		file := fmt.Sprintf("z%d.zone", i)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(zones[z]), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "zone:\n\tname: %q\n\tzonefile: %q\n", z, file)
	}
	if err := os.WriteFile(filepath.Join(dir, "nsd.conf"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	Start(t, bin, []string{"-d", "-c", filepath.Join(dir, "nsd.conf")}, dir)
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion(names[0], dns.TypeSOA)
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		r, _, err := c.Exchange(m, net.JoinHostPort(addrs[0], strconv.Itoa(port)))
		if err == nil && r.Rcode == dns.RcodeSuccess {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
			serr, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
			t.Fatalf("NSD on %v did not serve %s: %v\n%s\n%s", addrs, names[0], err, Tail(string(log), 2000), Tail(string(serr), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
