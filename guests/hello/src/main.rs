//! `/hello` of the built-in `hello-world` image: explains what just happened, like Docker's.

use std::io::Write;

const MESSAGE: &str = "
Hello from skiff!
This message shows that your installation appears to be working correctly.

To generate this message, skiff took the following steps:
 1. The skiff client looked for the \"hello-world\" image in its local store.
 2. It was not there, so skiff imported it from its built-in library (no network
    needed): a real image made of read-only layers, with a content-hash ID.
 3. skiff created a new container from that image: an empty writable layer on
    top of the image's layers.
 4. skiff ran the container's program, a WebAssembly (WASI) module, which
    produced this output and sent it to your terminal.

To try something more ambitious, you can run a shell inside a container with:
 $ skiff run -it busybox sh

Then follow the tutorials:
 $ skiff tutorial
";

fn main() {
    let out = std::io::stdout();
    let mut out = out.lock();
    let _ = out.write_all(MESSAGE.as_bytes());
    let _ = out.flush();
}
