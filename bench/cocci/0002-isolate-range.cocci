// Insertion semantic patch for 0002: stop the isolate loop at a PTE outside the VMA, before
// vm_normal_page(). The address metavariable binds addr or address, whatever the tree calls it.
@@
identifier fn = __collapse_huge_page_isolate;
expression A, E;
symbol vma, page;
@@
fn(...) {
<...
+ /*
+  * The VMA may have been split since collapse_scan_pmd() looked
+  * at this range with the mmap lock dropped.
+  */
+ if (unlikely(A < vma->vm_start || A >= vma->vm_end)) {
+ 	result = SCAN_ADDRESS_RANGE;
+ 	goto out;
+ }
 page = vm_normal_page(vma, A, E);
...>
}
