package election_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lanscout/lanscout/inventory/election"
)

// BenchmarkDecide is a steady round of 10,000 agents over 1,000 subnets
// (the size), seats carried over from the previous round.
func BenchmarkDecide(b *testing.B) {
	in := election.Input{Now: t0}
	for i := range 1000 {
		in.Subnets = append(in.Subnets, election.Subnet{ID: int64(i + 1),
			Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 250), byte(i % 250), 0}), 24), MaxScanners: 1 + i%3})
	}
	for i := range 10000 {
		sn := in.Subnets[i%1000].Prefix.Addr().As4()
		sn[3] = byte(10 + i/1000)
		a := steady(int64(i+1), netip.PrefixFrom(netip.AddrFrom4(sn), 24).String())
		a.Fidelity = 1 + (i*37)%400
		a.Name = fmt.Sprintf("pc-%05d", i)
		in.Agents = append(in.Agents, a)
	}
	in.Seats = election.Decide(election.Config{}, in).Seats
	b.ResetTimer()
	for i := range b.N {
		in.Now = t0.Add(time.Duration(i) * time.Second)
		election.Decide(election.Config{}, in)
	}
}
