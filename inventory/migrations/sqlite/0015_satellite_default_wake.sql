-- Satellites created without a wake command had the default of the time,
-- "wakeonlan -i {broadcast} {macs}", written into their row. It has no
-- {port} or {password}, so they ignored wake ports other than 9 and
-- failed every wake once a SecureOn password was set, while the default
-- had moved on to carry the port. An empty wake command now means "the
-- current default", resolved when a wake runs; a row holding exactly the
-- old default never chose it, so it follows the default from now on.
UPDATE satellites SET wake_command = '' WHERE wake_command = 'wakeonlan -i {broadcast} {macs}';
