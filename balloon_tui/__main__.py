from balloon_tui.cli import main

raise SystemExit(main())
