#!/bin/bash
# Issue 2: NOOP handshake and control-file errors.
exec rtpe-vmtest handshake
