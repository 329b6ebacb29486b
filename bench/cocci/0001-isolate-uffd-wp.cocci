// Insertion semantic patch for 0001 (dd47ac428c3f's shape): re-check uffd-wp in the isolate loop
// right after the non-present check. Written the way a maintainer would write it by hand, for
// bench/backport_bench.py; it knows nothing about whether the guard is already there.
@@
identifier fn = __collapse_huge_page_isolate;
expression E;
statement S;
@@
fn(...) {
<...
 if (!pte_present(E)) S
+ if (pte_uffd_wp(E)) {
+ 	result = SCAN_PTE_UFFD_WP;
+ 	goto out;
+ }
...>
}
