#!/usr/bin/env python3
"""Mutation fuzzing of the trace.dat path through the built svmdbg (a separate process per
input, so a crash in libtracecmd/libtraceevent shows as a signal exit).

    swift build && python3 Fuzz/mutate_dat.py SEED COUNT [TRACE.dat]

Each input is a copy of the trace.dat (default traces/6.12/minimal.dat) with random bytes
changed, a cut, a deleted range, or 8 bytes overwritten with 0xff/0x00/INT64_MAX.
`svmdbg stats` must exit 0 or 2; anything else (a signal, a hang) is kept as
crash-SEED-N.dat in the current folder. The libFuzzer target caps inputs at 8 KiB, so it
does not reach the format and data sections of a real trace.dat; this script does.
"""
import os, random, subprocess, sys
root=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src=open(sys.argv[3] if len(sys.argv)>3 else os.path.join(root,'traces/6.12/minimal.dat'),'rb').read()
S=os.path.join(root,'.build/debug/svmdbg')
random.seed(int(sys.argv[1]))
crashes=0
for i in range(int(sys.argv[2])):
    b=bytearray(src)
    mode=random.randrange(4)
    if mode==0:
        for _ in range(random.randint(1,20)):
            p=random.randrange(len(b)); b[p]=random.randrange(256)
    elif mode==1:
        b=b[:random.randrange(len(b))]
    elif mode==2:
        p=random.randrange(len(b)); n=random.randint(1,2000); del b[p:p+n]
    else:
        p=random.randrange(len(b)); b[p:p+8]=random.choice([b'\xff'*8,b'\x00'*8,b'\x7f\xff\xff\xff\xff\xff\xff\xff'])
    fn='in-%s.dat'%sys.argv[1]; open(fn,'wb').write(b)
    try:
        r=subprocess.run([S,'stats',fn],capture_output=True,timeout=20)
        rc=r.returncode
    except subprocess.TimeoutExpired:
        rc='timeout'
    if rc not in (0,2):
        crashes+=1
        os.rename(fn,'crash-%s-%d.dat'%(sys.argv[1],i))
        print('CRASH',i,mode,rc,r.stderr[-300:] if rc!='timeout' else '')
print('done',crashes)
