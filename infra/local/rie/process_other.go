//go:build !linux

package rie

import "syscall"

// emulatorProcess puts an emulator in its own process group, so that Close ends its function
// too (only Linux can have it killed with this process).
func emulatorProcess() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
