/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared main() body for the Check unit tests: TAP on stdout (so every
 * suite, unit or VM, is counted the same way by scripts/tap-summary),
 * the normal Check report on stderr, exit status non-zero on failure.
 */
#ifndef PGP_CHECK_MAIN_H
#define PGP_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int pgp_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/* "-" is Check's name for stdout. */
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* PGP_CHECK_MAIN_H */
