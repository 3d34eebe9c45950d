/* hl-bench: load generator for `make bench`. Posts N appeals to hl-intake
 * with C requests in flight (libcurl multi) and prints throughput and
 * latency percentiles. Usage: hl-bench URL N C */
#include "hl_alloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    CURL *easy;   /* transfer */
    double start; /* when it was started, seconds */
} s_xfer_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t s_discard(char *d, size_t s, size_t n, void *a)
{
    (void)d;
    (void)a;
    return s * n;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: hl-bench URL N CONCURRENCY\n");
        return 2;
    }
    const char *url = argv[1];
    int n = atoi(argv[2]), conc = atoi(argv[3]);
    if (n <= 0 || conc <= 0)
        return 2;
    static const char body[] =
        "{\"channel\":\"qr\",\"org_unit\":\"cp006\",\"category\":\"parking\",\"body\":"
        "\"春江花城地下车库有人用地锁占用公共车位，和物业说了也没人管，希望三方商量解决。\","
        "\"source_ref\":\"qr:cp-cp006\"}";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    s_xfer_t *x = hl_calloc((size_t)conc, sizeof *x);
    double *lat = hl_calloc((size_t)n, sizeof *lat);
    int started = 0, done = 0, ok = 0;
    double t0 = s_now();
    for (int i = 0; i < conc && started < n; i++, started++) {
        x[i].easy = curl_easy_init();
        curl_easy_setopt(x[i].easy, CURLOPT_URL, url);
        curl_easy_setopt(x[i].easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(x[i].easy, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(x[i].easy, CURLOPT_WRITEFUNCTION, s_discard);
        curl_easy_setopt(x[i].easy, CURLOPT_PRIVATE, &x[i]);
        x[i].start = s_now();
        curl_multi_add_handle(multi, x[i].easy);
    }
    while (done < n) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            s_xfer_t *t;
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            lat[done++] = s_now() - t->start;
            ok += status == 201;
            curl_multi_remove_handle(multi, t->easy);
            if (started < n) {
                started++;
                t->start = s_now();
                curl_multi_add_handle(multi, t->easy); /* reuse: keep-alive */
            } else {
                curl_easy_cleanup(t->easy);
            }
        }
        curl_multi_wait(multi, NULL, 0, 10, NULL);
    }
    double secs = s_now() - t0;
    qsort(lat, (size_t)n, sizeof *lat, s_cmp);
    printf("%d %d %.3f %.2f %.2f %.2f\n", n, ok, secs, lat[n / 2] * 1000, lat[n * 99 / 100] * 1000,
           lat[n - 1] * 1000);
    curl_slist_free_all(hdr);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    free(x);
    free(lat);
    return ok == n ? 0 : 1;
}
