// Package pin obtains PINs from the sources craton allows — a file, a named
// environment variable, or a no-echo prompt on a terminal — and never from a
// command-line value. It never logs, prints or retries a PIN.
//
// It must not import cmd/ or any PKCS#11 package: it only returns strings.
package pin
