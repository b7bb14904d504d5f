from dragonfly_py.cli import main

raise SystemExit(main())
