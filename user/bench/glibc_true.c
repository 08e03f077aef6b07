/*
 * glibc_true.c - a real static glibc program for the fork + execve benchmark
 * (`fork_exec_glibc`): glibc's whole start-up (TLS, IRELATIVE relocations, stdio), a
 * formatted print into a buffer, exit. About 700 KB, like the static programs users run;
 * the exec cost should not grow with that size.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s has %d argument(s)", argv[0], argc - 1);
	return buf[0] == '\0';
}
