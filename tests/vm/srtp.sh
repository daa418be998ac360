#!/bin/bash
# Issue 4: in-kernel SRTP for every suite, checked byte for byte against userspace SRTP.
exec rtpe-vmtest srtp
