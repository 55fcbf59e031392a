package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// signalContext is cancelled by SIGINT (Ctrl-C) or SIGTERM (kill, a job
// scheduler's stop, a container's shutdown), both handled alike: the
// running step finishes or is abandoned, a checkpoint is written, and the
// command exits non-zero saying where it stopped. Its cause names the
// signal.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// stopped reports whether err ends a command because its context was
// cancelled (by a signal).
func stopped(err error) bool { return errors.Is(err, context.Canceled) }

// stoppedError is the error of a command stopped by a signal after step
// steps: the signal, what was kept, and how to continue.
func stoppedError(ctx context.Context, command string, step int, kept, resume string) error {
	return fmt.Errorf("%s: stopped at step %d (%v); %s; resume with: %s", command, step, context.Cause(ctx), kept, resume)
}

// commandLine writes args (os.Args) as a shell command line starting
// with "sargo".
func commandLine(args []string) string {
	out := []string{"sargo"}
	for _, a := range args[1:] {
		out = append(out, shellQuote(a))
	}
	return strings.Join(out, " ")
}

// resumeCommand is the command line that continues args (os.Args of a
// train command): the same arguments, with --resume added unless given.
func resumeCommand(args []string) string {
	line := commandLine(args)
	if slices.Contains(args[1:], "--resume") || slices.Contains(args[1:], "--resume=true") {
		return line
	}
	return line + " --resume"
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./=:,+@%.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
