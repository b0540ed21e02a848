/*
 * main.c: the `berth` command. Placeholder until serve lands.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "berth: not yet\n");
	return 2;
}
