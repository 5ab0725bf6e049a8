from relaygate.cli import main

raise SystemExit(main())
