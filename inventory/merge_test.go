package inventory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lanscout/lanscout/typing"
)

func agentInv(uid, host, serial string, nics ...NIC) AgentInventory {
	return AgentInventory{UID: uid, Hostname: host, Serial: serial, OSName: "Debian GNU/Linux", OSVersion: "12", NICs: nics}
}

func nic(name, mac string, kind NICKind, addrs ...string) NIC {
	return NIC{Name: name, MAC: mac, Kind: kind, State: "up", Addresses: addrs}
}

func TestMerge(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	office := mustSubnet(t, s, "192.168.10.0/24")
	lab := mustSubnet(t, s, "192.168.20.0/24")

	// Agents report before or after discovery; both orders must link.
	if _, err := s.RecordAgentInventory(ctx, agentInv("uid-alice", "alice-pc.corp.example", "PF2ABCDE",
		nic("eth0", "3C:52:82:00:00:01", NICWired, "192.168.10.11/24", "fe80::1/64"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAgentInventory(ctx, agentInv("uid-bob", "bob-laptop", "",
		nic("wlan0", "f2:11:22:33:44:55", NICWireless, "192.168.10.12/24"))); err != nil {
		t.Fatal(err)
	}
	// Two clones with the same host name: the name must not link either.
	for _, uid := range []string{"uid-clone-1", "uid-clone-2"} {
		if _, err := s.RecordAgentInventory(ctx, agentInv(uid, "template-vm", "", nic("eth0", "", NICVirtual))); err != nil {
			t.Fatal(err)
		}
	}

	scanOnce(t, s, clk, office.ID,
		dev("192.168.10.11", "3c:52:82:00:00:01", "", ""),                             // alice by MAC
		dev("192.168.10.12", "8c:ae:4c:00:00:99", "bob-laptop", ""),                   // bob behind a USB NIC: by DNS name
		withSNMP(dev("192.168.10.13", "00:1b:a9:00:00:13", "", "printer"), "prn", ""), // a printer, no agent
		dev("192.168.10.14", "02:00:00:00:00:14", "template-vm", ""),                  // ambiguous name
		withSNMP(dev("192.168.10.15", "00:50:56:00:00:15", "", "server"), "db-1", "VMW-1234"),
	)
	// db-1 installs an agent later, on a different MAC: the serial matches.
	if _, err := s.RecordAgentInventory(ctx, agentInv("uid-db1", "database-one", "VMW-1234",
		nic("ens192", "00:50:56:99:99:99", NICVirtual, "192.168.20.5/24"))); err != nil {
		t.Fatal(err)
	}
	// carol's agent comes after her sysName was seen; the sysName matches.
	scanOnce(t, s, clk, lab.ID, withSNMP(dev("192.168.20.7", "00:0c:29:00:00:07", "", "workstation"), "CAROL-WS", ""))
	carol, err := s.RecordAgentInventory(ctx, agentInv("uid-carol", "carol-ws", "", nic("eth0", "00:0c:29:aa:aa:aa", NICWired)))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		ip     string
		agent  string // UID, "" for none
		match  MatchKind
		status Status
	}{
		{"192.168.10.11", "uid-alice", MatchMAC, Inventoried},
		{"192.168.10.12", "uid-bob", MatchHostname, Inventoried},
		{"192.168.10.13", "", MatchNone, NonInventoried},
		{"192.168.10.14", "", MatchNone, NonInventoried},
		{"192.168.10.15", "uid-db1", MatchSerial, Inventoried},
		{"192.168.20.7", "uid-carol", MatchSysName, Inventoried},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			d := deviceByIP(t, s, tc.ip)
			var uid string
			if d.AgentID != 0 {
				a, err := s.Agent(ctx, d.AgentID)
				if err != nil {
					t.Fatal(err)
				}
				uid = a.UID
			}
			if uid != tc.agent || d.Match != tc.match || d.Status != tc.status {
				t.Errorf("linked to %q by %q (%s), want %q by %q (%s)", uid, d.Match, d.Status, tc.agent, tc.match, tc.status)
			}
		})
	}
	if det, err := s.Device(ctx, deviceByIP(t, s, "192.168.20.7").ID); err != nil || det.Agent == nil || det.Agent.ID != carol.ID {
		t.Errorf("device detail lacks its agent: %+v, %v", det.Agent, err)
	}

	// Once alice's MAC shows up on another agent's NIC instead (NIC moved
	// to another machine), the link follows the MAC.
	if _, err := s.RecordAgentInventory(ctx, agentInv("uid-alice", "alice-pc", "PF2ABCDE",
		nic("eth0", "3C:52:82:00:00:02", NICWired, "192.168.10.11/24"))); err != nil {
		t.Fatal(err)
	}
	if d := deviceByIP(t, s, "192.168.10.11"); d.AgentID != 0 {
		// alice's device keeps no MAC, name or serial match now.
		t.Errorf("alice's old NIC still linked: %+v", d)
	}

	// An admin identifies the printer: identified, and its category wins.
	prn := deviceByIP(t, s, "192.168.10.13")
	if err := s.Identify(ctx, prn.ID, Identification{Category: typing.Printer, Name: "2nd floor printer", By: "admin"}); err != nil {
		t.Fatal(err)
	}

	counts, err := s.SubnetCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]SubnetCounts{
		// office: agents alice and bob (addresses in the subnet) and bob
		// linked; printer identified; .11 (unlinked now), .14, .15 (its
		// agent's address is in the lab subnet, but it is linked) ...
		office.ID: {SubnetID: office.ID, Inventoried: 3, NonInventoried: 2, Identified: 1, Up: 5},
		lab.ID:    {SubnetID: lab.ID, Inventoried: 2, NonInventoried: 0, Identified: 0, Up: 1},
	}
	for _, c := range counts {
		if c != want[c.SubnetID] {
			t.Errorf("counts of subnet %d = %+v, want %+v", c.SubnetID, c, want[c.SubnetID])
		}
	}

	// Agent queries.
	inLab, err := s.Agents(ctx, AgentQuery{SubnetID: lab.ID})
	if err != nil || len(inLab) != 1 || inLab[0].UID != "uid-db1" || len(inLab[0].NICs) != 1 || inLab[0].NICs[0].Addresses[0] != "192.168.20.5/24" {
		t.Errorf("agents in lab = %+v, %v", inLab, err)
	}
	found, err := s.Agents(ctx, AgentQuery{Search: "BOB"})
	if err != nil || len(found) != 1 || found[0].NICs[0].Kind != NICWireless || found[0].NICs[0].MAC != "f2:11:22:33:44:55" {
		t.Errorf("search bob = %+v, %v", found, err)
	}
	// Deleting an agent unlinks its devices.
	bob, err := s.AgentByUID(ctx, "uid-bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if d := deviceByIP(t, s, "192.168.10.12"); d.AgentID != 0 || d.Status != NonInventoried || d.Match != MatchNone {
		t.Errorf("device of a deleted agent = %+v", d)
	}
}

func TestAgentContact(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	a, err := s.RecordAgentContact(ctx, "DESKTOP-1-2026-11-02-09-00-00", AgentOCS)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fidelity != 1 || a.Quality != 0 || a.Kind != AgentOCS {
		t.Errorf("first contact = %+v", a)
	}
	clk.Advance(24 * time.Hour)
	a, _ = s.RecordAgentContact(ctx, a.UID, AgentOCS)
	clk.Advance(48 * time.Hour)
	a, err = s.RecordAgentContact(ctx, a.UID, AgentOCS)
	if err != nil {
		t.Fatal(err)
	}
	// q1 = (1 + 0*1)/2 = 0.5; q2 = (2 + 0.5*2)/3 = 1.
	if a.Fidelity != 3 || a.Quality < 0.999 || a.Quality > 1.001 {
		t.Errorf("after 3 contacts: fidelity %d quality %f", a.Fidelity, a.Quality)
	}
	if _, err := s.RecordAgentInventory(ctx, AgentInventory{UID: ""}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty UID: err = %v", err)
	}
	if _, err := s.RecordAgentInventory(ctx, agentInv("x", "x", "", nic("eth0", "", NICWired, "300.1.1.1/24"))); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad address: err = %v", err)
	}
}

// TestAgentUIDTaken: a UID held by an agent of one kind is refused to the
// other, in inventories and contacts alike, and the holder's machine,
// NICs and measures are left as they were.
func TestAgentUIDTaken(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	mustSubnet(t, s, "192.168.10.0/24")
	const uid = "uid-ours"
	ours := agentInv(uid, "ours.corp.example", "PFOURS01", nic("eth0", "3C:52:82:00:00:21", NICWired, "192.168.10.21/24"))
	ours.Kind = AgentLanscout
	if _, err := s.RecordAgentInventory(ctx, ours); err != nil {
		t.Fatal(err)
	}
	before, err := s.AgentByUID(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}

	ocsInv := agentInv(uid, "intruder", "", nic("eth0", "3C:52:82:00:00:99", NICWired, "192.168.10.99/24"))
	ocsInv.Kind = AgentOCS
	if _, err := s.RecordAgentInventory(ctx, ocsInv); !errors.Is(err, ErrUIDTaken) || !errors.Is(err, ErrConflict) {
		t.Errorf("OCS inventory under our agent's UID: err = %v, want ErrUIDTaken (an ErrConflict)", err)
	}
	if _, err := s.RecordAgentContact(ctx, uid, AgentOCS); !errors.Is(err, ErrUIDTaken) {
		t.Errorf("OCS contact under our agent's UID: err = %v, want ErrUIDTaken", err)
	}
	after, err := s.AgentByUID(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if after.Kind != AgentLanscout || after.Hostname != "ours.corp.example" || after.Fidelity != before.Fidelity ||
		len(after.NICs) != 1 || after.NICs[0].MAC != "3c:52:82:00:00:21" {
		t.Errorf("agent after refused writes = %+v, want it unchanged (%+v)", after, before)
	}

	// The other way round: an OCS agent's UID is not ours to write.
	if _, err := s.RecordAgentContact(ctx, "DESKTOP-9-2026-11-02-09-00-00", AgentOCS); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAgentInventory(ctx, agentInv("DESKTOP-9-2026-11-02-09-00-00", "x", "")); !errors.Is(err, ErrUIDTaken) {
		t.Errorf("our inventory under an OCS agent's UID: err = %v, want ErrUIDTaken", err)
	}
	// The same kind still updates.
	ours.Hostname = "ours-renamed.corp.example"
	if a, err := s.RecordAgentInventory(ctx, ours); err != nil || a.Hostname != ours.Hostname || a.Kind != AgentLanscout {
		t.Errorf("same-kind inventory: %+v, %v", a, err)
	}
}
