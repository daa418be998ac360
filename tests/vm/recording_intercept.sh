#!/bin/bash
# Issue 19: the copies a recorded stream gets of the packets an intercepting target
# forwards (IPv4, IPv6: whole IP packet, lengths fixed), a deleted and re-added stream.
exec rtpe-vmtest recording
