package rie

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// emulatorPackage is the emulator's main package, pinned as a tool in go.mod.
const emulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// BuildEmulator builds the emulator pinned in go.mod into dir and returns its path.
func BuildEmulator(ctx context.Context, moduleRoot, dir string) (string, error) {
	out := filepath.Join(dir, "aws-lambda-rie")
	return out, goBuild(ctx, moduleRoot, out, emulatorPackage, nil)
}

// BuildFunction builds functions/<name> as a Lambda bootstrap for this machine's architecture
// (the same flags as `make build`) into dir/<name>/bootstrap and returns its path.
func BuildFunction(ctx context.Context, moduleRoot, dir, name string) (string, error) {
	out := filepath.Join(dir, name, "bootstrap")
	return out, goBuild(ctx, moduleRoot, out, "./functions/"+name, []string{"-tags", "lambda.norpc"})
}

func goBuild(ctx context.Context, moduleRoot, out, pkg string, flags []string) error {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return nil
}
