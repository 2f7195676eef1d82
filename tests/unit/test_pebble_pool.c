// SPDX-License-Identifier: GPL-2.0
/* Pebble pool: alignment, guard pages, reference counts, bounded waits, wake, mlock note. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "pebble_pool.h"
#include "check_main.h"

static int logs;
static void log_cb(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	logs++;
}

START_TEST(alloc_put_refcount)
{
	struct pb_pool_options o = { 4, 10000, 4, 100, 0, NULL, NULL };
	struct pb_pool *p;
	uint32_t h[4], t, x;
	long page = sysconf(_SC_PAGESIZE);

	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	ck_assert_uint_eq(pb_pool_count(p, 0), 4);
	ck_assert_uint_eq(pb_pool_count(p, 1), 4);
	ck_assert_uint_eq(pb_pool_bufsize(p, 0), 10000);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pb_pool_alloc(p, 0, 2, 0, &h[i]), 0);
		ck_assert_uint_eq((uintptr_t)pb_pool_addr(p, h[i]) % (uintptr_t)page, 0);
		memset(pb_pool_addr(p, h[i]), i, 10000);	/* whole buffer writable */
	}
	ck_assert_uint_eq(pb_pool_in_use(p, 0), 4);
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 0, &x), -EAGAIN);
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 50, &x), -ETIMEDOUT);
	ck_assert_uint_eq(pb_pool_exhausted(p), 2);
	/* two consumers: the buffer comes back only after both */
	ck_assert_uint_eq(pb_pool_put(p, h[0]), 1);
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 0, &x), -EAGAIN);
	ck_assert_uint_eq(pb_pool_put(p, h[0]), 0);
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 0, &x), 0);
	ck_assert_uint_eq(x, h[0]);
	pb_pool_ref(p, x, 1);
	ck_assert_uint_eq(pb_pool_put(p, x), 1);
	ck_assert_uint_eq(pb_pool_put(p, x), 0);
	/* transition buffers are a separate pool with the handle bit */
	ck_assert_int_eq(pb_pool_alloc(p, 1, 1, 0, &t), 0);
	ck_assert(t & PB_POOL_TR);
	ck_assert_uint_eq(pb_pool_in_use(p, 1), 1);
	/* verification marks: first one wins, cleared at allocation */
	ck_assert_int_eq(pb_pool_mark(p, t, 2), 1);
	ck_assert_int_eq(pb_pool_mark(p, t, 1), 0);
	ck_assert_uint_eq(pb_pool_marked(p, t), 2);
	pb_pool_put(p, t);
	ck_assert_int_eq(pb_pool_alloc(p, 1, 1, 0, &t), 0);
	ck_assert_uint_eq(pb_pool_marked(p, t), 0);
	pb_pool_put(p, t);
	for (int i = 1; i < 4; i++) {
		pb_pool_put(p, h[i]);
		pb_pool_put(p, h[i]);
	}
	ck_assert_uint_eq(pb_pool_in_use(p, 0), 0);
	ck_assert_ptr_null(pb_pool_addr(p, 99));
	ck_assert_ptr_null(pb_pool_addr(p, PB_POOL_NONE));
	pb_pool_destroy(p);
}
END_TEST

START_TEST(bad_options)
{
	struct pb_pool_options o = { 0, 100, 0, 0, 0, NULL, NULL };
	struct pb_pool *p;
	uint32_t h;

	ck_assert_int_eq(pb_pool_create(&p, &o), -EINVAL);
	o.count = 1;
	o.size = 0;
	ck_assert_int_eq(pb_pool_create(&p, &o), -EINVAL);
	o.size = 100;
	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	ck_assert_int_eq(pb_pool_alloc(p, 1, 1, 0, &h), -ENOENT);	/* no transition pool */
	ck_assert_int_eq(pb_pool_alloc(p, 0, 0, 0, &h), -EINVAL);
	pb_pool_destroy(p);
	pb_pool_destroy(NULL);
}
END_TEST

/* Writing one byte past a pebble hits the guard page. */
START_TEST(guard_page)
{
	struct pb_pool_options o = { 2, 4096, 0, 0, 0, NULL, NULL };
	struct pb_pool *p;
	uint32_t h;
	int status;
	pid_t pid;

	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 0, &h), 0);
	pid = fork();
	if (pid == 0) {
		volatile uint8_t *b = pb_pool_addr(p, h);

		b[4095] = 1;
		b[4096] = 1;	/* guard */
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/*
	 * The write past the pebble must fault: SIGSEGV, or under ASan its
	 * report followed by exit 1 or (abort_on_error=1) SIGABRT. Reaching
	 * _exit(0) means the guard page is missing.
	 */
	ck_assert((WIFSIGNALED(status) &&
		   (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGABRT)) ||
		  (WIFEXITED(status) && WEXITSTATUS(status) != 0));
	pb_pool_put(p, h);
	pb_pool_destroy(p);
}
END_TEST

struct waiter {
	struct pb_pool *p;
	int ret;
	uint32_t h;
	atomic_int done;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = pb_pool_alloc(w->p, 0, 1, -1, &w->h);
	atomic_store(&w->done, 1);
	return NULL;
}

/* A blocked allocation gets the buffer a consumer frees, or -EINTR on wake. */
START_TEST(blocking_wait_and_wake)
{
	struct pb_pool_options o = { 1, 100, 0, 0, 0, NULL, NULL };
	struct pb_pool *p;
	struct waiter w = { 0 };
	pthread_t t;
	uint32_t h;

	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	w.p = p;
	ck_assert_int_eq(pb_pool_alloc(p, 0, 1, 0, &h), 0);
	pthread_create(&t, NULL, wait_thread, &w);
	usleep(50000);
	pb_pool_put(p, h);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.ret, 0);
	ck_assert_uint_eq(w.h, h);
	/*
	 * Now empty again: a wake interrupts the wait. A wake only reaches
	 * a thread already waiting, so keep waking until it has returned
	 * (on a slow or loaded machine it may start waiting late).
	 */
	atomic_store(&w.done, 0);
	pthread_create(&t, NULL, wait_thread, &w);
	while (!atomic_load(&w.done)) {
		pb_pool_wake(p);
		usleep(10000);
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(w.ret, -EINTR);
	pb_pool_put(p, h);
	pb_pool_destroy(p);
}
END_TEST

/* mlock: works within RLIMIT_MEMLOCK, says so once when it cannot. */
START_TEST(mlock_note)
{
	struct pb_pool_options o = { 2, 4096, 2, 4096, 1, log_cb, NULL };
	struct pb_pool *p;

	logs = 0;
	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	ck_assert_int_eq(logs, pb_pool_locked(p) ? 0 : 1);
	pb_pool_destroy(p);
	/* far more than any default RLIMIT_MEMLOCK (unless unlimited) */
	o.count = 1024;
	o.size = 1 << 20;
	logs = 0;
	ck_assert_int_eq(pb_pool_create(&p, &o), 0);
	ck_assert_int_eq(logs, pb_pool_locked(p) ? 0 : 1);
	pb_pool_destroy(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pebble_pool");
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, alloc_put_refcount);
	tcase_add_test(tc, bad_options);
	tcase_add_test(tc, guard_page);
	tcase_add_test(tc, blocking_wait_and_wake);
	tcase_add_test(tc, mlock_note);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
