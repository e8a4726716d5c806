"""`python -m app ...`: see app/cli."""

import gc

from app.cli import main

if __name__ == "__main__":
    code = main()
    # The interpreter's last collections at exit walk every object still alive (LlamaIndex, SQLAlchemy
    # and ONNX Runtime leave many): about 0.4 s after a one-file ingest or an `ask` here. Frozen
    # objects are left out of them; the process's memory goes back to the system when it exits anyway.
    gc.freeze()
    raise SystemExit(code)
