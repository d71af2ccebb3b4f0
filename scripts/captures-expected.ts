/**
 * What each known analyzer recording decodes to, for `npm run check:captures -- DIR`. The
 * recordings themselves are third-party test data kept outside the repository; only these
 * expectations live here. Positions count from 0, as in the decoder's JSON.
 */
import type { Result } from '../src-shared/results';
import type { CaptureExpectation } from './capture-compare';

function result(
  sampleId: string | null,
  patientId: string | null,
  testCode: string | null,
  value: string | null,
  units: string | null,
  flags: string | null,
  status: string | null,
  observedAt: string | null,
): Result {
  return { sampleId, patientId, testCode, value, units, flags, status, observedAt };
}

export const KNOWN_CAPTURES: Readonly<Record<string, CaptureExpectation>> = {
  'abbott_afinion2.txt': {
    device: 'Abbott Afinion 2',
    recordTypes: 'HPORL',
    header: {
      sender: 'Afinion 2 Analyzer',
      senderParts: ['Afinion 2 Analyzer', '', 'AF20052397'],
      processingId: 'P',
      version: '1',
      timestamp: '2024-12-06T14:12:35',
    },
    resultCount: 1,
    results: { 0: result('5', '3643', 'HbA1c', '5.9', '%', null, 'F', '2024-12-06T14:06:15') },
    errors: [],
    termination: 'N',
  },

  'cobas_c111.txt': {
    device: 'Roche cobas c111',
    recordTypes: 'HPORCML',
    records: [
      {
        record: 5,
        type: 'M',
        field: 3,
        components: ['RR', 'BM', 'c111', '1'],
      },
      {
        record: 5,
        field: 5,
        firstOfRepeats: '-21 -21 1 1 1 -1 -33 -37 -38 -38 -42 -42 -42 -41 -42 -43 140 141'.split(
          ' ',
        ),
      },
    ],
    header: { sender: 'SENAITE', receiver: 'host', version: '1' },
    resultCount: 1,
    results: {
      0: result('T20 10134GA D28', null, '413', '40.13', 'g/L', 'N', 'F', '2023-08-03T13:17:00'),
    },
    commentCount: 1,
    comments: { 0: { record: 4, attachedTo: 3, source: 'I', parts: [], text: '', kind: 'I' } },
    resultSources: { 0: { record: 3, patient: 1, order: 2, comments: [4] } },
    errors: [],
  },

  'cobas_c311.txt': {
    device: 'Roche cobas c311',
    recordCount: 18,
    records: [
      { record: 2, field: 5, repeatCount: 7 },
      { record: 2, field: 3, components: ['11625', 'CL-PL-24-0370         ', '1', '', '004'] },
    ],
    header: { sender: 'c311', receiver: 'host', timestamp: null },
    resultCount: 7,
    results: {
      0: result('11625', null, '685/', '22.4', 'U/l', 'A', 'F', null),
      1: { testCode: '687/' },
      2: result('11625', null, '712/', '4.1', 'umol/l', 'L', 'F', null),
      3: { testCode: '158/' },
      4: { testCode: '735/' },
      5: { testCode: '717/' },
      6: result('11625', null, '690/', '34', 'umol/l', 'A', 'F', null),
    },
    commentCount: 7,
    comments: {
      0: { attachedTo: 3, text: '43' },
      1: { attachedTo: 5, text: '0' },
      2: { attachedTo: 7, text: '0' },
      3: { attachedTo: 9, text: '0' },
      4: { attachedTo: 11, text: '0' },
      5: { attachedTo: 13, text: '0' },
      6: { attachedTo: 15, text: '43' },
    },
    errors: [],
  },

  'dca_vantage.txt': {
    device: 'Siemens DCA Vantage',
    resultCount: 3,
    results: {
      0: result('660', 'BU24R554', 'Alb', '63.7', 'mg/L', null, 'F', null),
      2: result('660', 'BU24R554', 'Ratio', '27.6', 'mg/g', null, 'F', null),
    },
    commentCount: 2,
    comments: {
      0: { attachedTo: 3, parts: ['1.000', '0.0 mg/L'] },
      1: { attachedTo: 5, parts: ['1.000', '0.0 mg/dL'] },
    },
    errors: [],
  },

  'genexpert.txt': {
    device: 'Cepheid GeneXpert',
    records: [
      {
        record: 3,
        field: 3,
        components: ['', 'MTB-RIF', '', 'Xpert', 'Xpert MTB-RIF Ultra', '4', 'MTB', ''],
      },
    ],
    header: {
      delimiters: { field: '|', repeat: '@', component: '^', escape: '\\' },
      messageControlId: 'URM-8lT4abZA-06',
      sender: '.806149 Happy Hospital',
      senderParts: ['.806149 Happy Hospital', 'GeneXpert', '4.8'],
      receiver: 'HNH-SENAITE',
      processingId: 'P',
      version: '1394-97',
      timestamp: '2025-05-16T12:55:15',
    },
    resultCount: 84,
    results: {
      0: result('PR25A137', null, 'Xpert', 'NOT DETECTED', null, null, 'F', '2025-05-14T13:21:03'),
      2: result('PR25A137', null, 'Xpert', '^0.0', null, null, null, null),
      83: result('PR25A137', null, 'RIF', '^3.0', null, null, null, null),
    },
    commentCount: 3,
    comments: {
      0: {
        attachedTo: 3,
        parts: ['Notes', '', 'Id# 118176 Sardani P Lantion CDU/Dr. A Marcil cp'],
      },
    },
    errors: [],
  },

  'mini_vidas.txt': {
    device: 'bioMérieux mini VIDAS',
    recordCount: 0,
    resultCount: 0,
    errors: ['ASTM_NOT_ASTM'],
    firstErrorContains: ['not ASTM', 'mtrsl|pi|pn|si|ciZ1G021SCR'],
    text: 'mtrsl|pi|pn|si|ciZ1G021SCR|rtHBCT|rnAnti-HBc Total II|tt18:35|td10/25/24|qlPositif|qn0.05|b0',
  },

  'pentra_xlr.txt': {
    device: 'Horiba Pentra XLR',
    recordCount: 28,
    resultCount: 21,
    results: {
      0: result('S1234', null, 'WBC', '8.5', '1', null, 'W', '2022-07-27T12:15:50'),
      9: result('S1234', null, 'BAS#', '-----', '1', 'HH', 'X', '2022-07-27T12:15:50'),
      20: result('S1234', null, 'RDWSD', '43', '1', null, 'F', '2022-07-27T12:15:50'),
    },
    commentCount: 3,
    comments: {
      0: { attachedTo: 3, text: 'Alarm_WBC LMNE- BASO+ LL NL LN NO SL1' },
      1: { attachedTo: 3, text: 'LARGE IMMATURE CELL NRBCs' },
      2: { attachedTo: 23, text: 'PLATELET AGGREGATS' },
    },
    resultSources: { 0: { comments: [4, 5] } },
    errors: [],
  },

  'spotchem_el.txt': {
    device: 'Arkray SpotChem EL',
    recordCount: 0,
    resultCount: 0,
    errors: ['ASTM_NOT_ASTM'],
    firstErrorContains: ['24/10/29 13:08 ID# 1DC042FP', 'not an E1381 frame'],
    textStart: '24/10/29 13:08',
    textContains: ['Na       131  mmol/L'],
  },

  'sysmex_xn550.txt': {
    device: 'Sysmex XN-550',
    records: [{ record: 3, field: 5, repeatCount: 23 }],
    header: { sender: 'XN-550', version: 'E1394-97', processingId: null },
    resultCount: 41,
    results: {
      0: result('27', '37182', 'WBC', '8.13', '10*3/uL', 'N', 'F', '2024-06-27T13:54:07'),
      40: result(
        '27',
        '37182',
        'DIST_PLT',
        'PNG\\20240628\\2024_06_27_13_54_27_PLT.PNG',
        null,
        'N',
        'F',
        '2024-06-27T13:54:07',
      ),
    },
    errors: [],
  },

  'sysmex_xp100.txt': {
    device: 'Sysmex XP-100',
    resultCount: 20,
    results: {
      0: result('113', null, 'WBC', '5.5', '10*3/uL', 'N', null, '2024-07-23T17:24:52'),
      19: result('113', null, 'PCT', '0.17', '%', 'N', null, '2024-07-23T17:24:52'),
    },
    errors: [],
  },

  'yumizen_h500.txt': {
    device: 'Horiba Yumizen H500',
    recordTypes: `HPOCCMMMM${'R'.repeat(21)}L`,
    records: [{ record: 7, textLength: 26_644, textEnd: 'n2mDrf75ttOr/Xe27/z9b6//R/gc=' }],
    header: { sender: 'H500', processingId: 'Q', version: 'LIS2-A2' },
    resultCount: 21,
    results: {
      0: result('PX440N', null, 'MCV', '90.6', 'um3', 'N', 'F', null),
      20: result('PX440N', null, 'EOS%', '5.0', '%', 'N', 'F', null),
    },
    comments: { 0: { attachedTo: 2 }, 1: { attachedTo: 2 } },
    commentCount: 2,
    // The M records travel in frames numbered 1, 1, 1 after frame 5, then 4: not E1381's
    // sequence. Every text is kept and each departure is reported.
    errors: [
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
    ],
    firstErrorContains: ['frame 1 (byte 279): expected frame number 6; the text was kept'],
  },
};
