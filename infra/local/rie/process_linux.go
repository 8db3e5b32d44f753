package rie

import "syscall"

// emulatorProcess puts an emulator in its own process group, so that Close ends its function
// too, and has the kernel kill it when this process dies, so that a kill -9 of the local stack
// leaves no emulator behind (its function then exits as its runtime API goes away).
func emulatorProcess() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
