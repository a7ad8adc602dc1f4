//go:build !linux

package agent

func canRawSockets() bool { return false }

func capNetRawEffective(string) (bool, bool) { return false, false }
