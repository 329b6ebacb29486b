/// Detection peer for `reviewbot check` (bench only): report, per khugepaged function, whether
/// a uffd-wp test appears in it. Scan/isolate: an `if` testing pte_uffd_wp()/pte_uffd() inside
/// the function; file path: an `if` testing userfaultfd_wp()/userfaultfd_protected().
/// This is what a grep-like structural matcher can say; it knows nothing of loops, branches,
/// polarity or helpers (that is the point of the comparison).
// Confidence: Low (syntactic presence only)
// Options: --no-includes --include-headers

@guard@
identifier fn = {__collapse_huge_page_isolate, khugepaged_scan_pmd, hpage_collapse_scan_pmd,
                 collapse_scan_pmd};
expression E;
statement S1, S2;
position p;
@@
fn(...) {
<+...
(
if (pte_uffd_wp@p(E)) S1 else S2
|
if (pte_uffd_wp@p(E)) S1
|
if (pte_uffd@p(E)) S1
)
...+>
}

@vma@
identifier fn = {collapse_pte_mapped_thp, try_collapse_pte_mapped_thp, retract_page_tables};
expression V;
position p;
@@
fn(...) {
<+...
userfaultfd_wp@p(V)
...+>
}

@fns@
identifier fn = {__collapse_huge_page_isolate, khugepaged_scan_pmd, hpage_collapse_scan_pmd,
                 collapse_scan_pmd, collapse_pte_mapped_thp, try_collapse_pte_mapped_thp,
                 retract_page_tables};
position p;
@@
fn@p(...) { ... }

@script:python depends on guard@
p << guard.p;
fn << guard.fn;
@@
print("%s:%s: %s: uffd-wp test present" % (p[0].file, p[0].line, fn))

@script:python depends on vma@
p << vma.p;
fn << vma.fn;
@@
print("%s:%s: %s: userfaultfd_wp test present" % (p[0].file, p[0].line, fn))

@script:python@
p << fns.p;
fn << fns.fn;
@@
print("%s:%s: %s: examined" % (p[0].file, p[0].line, fn))
