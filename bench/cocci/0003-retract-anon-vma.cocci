// Insertion semantic patch for 0003: re-check ->anon_vma once the mmap lock is held for write in
// retract_page_tables(), in the mmap_lock API of the fix (5.8+).
@@
identifier fn = retract_page_tables;
expression M;
symbol vma;
@@
fn(...) {
<...
 if (mmap_write_trylock(M)) {
+ /*
+  * ->anon_vma may have appeared since the racy check
+  * above: the page table may then map anonymous pages.
+  */
+ if (vma->anon_vma) {
+ 	mmap_write_unlock(M);
+ 	continue;
+ }
 ...
 } else { ... }
...>
}
