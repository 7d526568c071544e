from hwb_core.cli import main

raise SystemExit(main())
