from resattn.cli import main

raise SystemExit(main())
