package checks_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"steward"
	"steward/checks"
)

// Run checks a delegation and lists what fails; a change request records
// the whole report.
func ExampleRun() {
	ds, err := checks.ParseDS("example.", "12345 13 2 4A5B0C1D2E3F405162738495A6B7C8D9EAFB0C1D2E3F405162738495A6B7C8D9")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := checks.Delegation{
		Zone: "example.",
		NS: []checks.NameServer{
			{Name: "a.nic.example.", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
			{Name: "b.nic.example.", Addrs: []netip.Addr{netip.MustParseAddr("198.51.100.1")}},
		},
		DS: []steward.DS{ds},
	}
	rep := checks.Run(context.Background(), d, checks.Options{Timeout: 2 * time.Second})
	for _, r := range rep.Failed() {
		fmt.Println(r.Level, r.Case, r.Tag, r.Message)
	}
	_ = rep.WriteText(os.Stdout, false)
}

func ExampleParseNameServer() {
	ns, err := checks.ParseNameServer("NS1.Example.ORG=192.0.2.1,2001:DB8::53")
	fmt.Println(ns.Name, ns.Addrs, err)
	// Output: ns1.example.org. [192.0.2.1 2001:db8::53] <nil>
}
